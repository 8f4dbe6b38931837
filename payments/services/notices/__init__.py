"""Customer e-mail notices of the collection side.

Collection sends, after its transaction commits, a receipt for a successful
collection (:func:`receipt`), the reason and the ways to pay after a declined one
(:func:`failure`), and what to do for a payment waiting on the customer: a QR code,
a pay link or a bank transfer notice (:func:`payment_request`). The daily task
(:func:`send_daily_notices`) tells direct-debit customers of a debit a few days
before it is taken (:func:`upcoming_debit`) and asks for a new mandate before the
current one runs out (:func:`mandate_expiring`).

Each notice is sent once: a :class:`~payments.models.SentNotice` row, unique on
(kind, key), is inserted before the mail goes out, and a second call (a repeated
task, a second worker) fails on that uniqueness and sends nothing. The mail is sent
only once the row is committed (at once outside a transaction, from
``transaction.on_commit`` inside one), so a rolled-back caller never sends. This is
*at most once*: if the process dies, or the mail server refuses, between the commit
and the send, that one e-mail is lost, and an error is logged with its kind and key
(delete the SentNotice row and call the function again to resend). Sending first
and recording afterwards would instead risk sending the same notice twice, which
for payment requests and failure notices confuses customers more than a missing
mail that staff can resend.

Notices are written in :func:`notice_language` (today the site's default language
for every customer) with one set of templates under
``payments/templates/payments/email/`` whose strings are all translatable.
"""

from .collection import failure, payment_request, receipt, receipts
from .daily import (
    expiring_mandate_ids,
    mandate_expiring,
    send_daily_notices,
    upcoming_debit,
    upcoming_debit_fee_ids,
)
from .sending import (
    MANDATE_EXPIRY_NOTICE_DAYS,
    format_amount,
    format_date,
    logger,
    notice_language,
)

__all__ = [
    "MANDATE_EXPIRY_NOTICE_DAYS",
    "expiring_mandate_ids",
    "failure",
    "format_amount",
    "format_date",
    "logger",
    "mandate_expiring",
    "notice_language",
    "payment_request",
    "receipt",
    "receipts",
    "send_daily_notices",
    "upcoming_debit",
    "upcoming_debit_fee_ids",
]
