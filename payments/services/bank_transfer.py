"""The entry point reconciliation uses to settle a bank transfer.

A bank transfer attempt is PENDING with its remittance reference as the gateway
reference. When a statement line quoting that reference (anywhere in its narrative:
:func:`~payments.adapters.bank_transfer.parse_remittance_reference` finds it) is
matched, the attempt succeeded — for exactly the amount asked. A different amount is
not guessed at: it is refused here and becomes a discrepancy for staff.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import Money, money_str
from payments.adapters import CollectionResult
from payments.adapters.bank_transfer import parse_remittance_reference
from payments.models import PaymentAttempt

from .collection import Outcome, record_result

METHOD = "bank_transfer"


def bank_transfer_settle(
    *, narrative: str, amount: Money, booked_on: dt.date, line_reference: str = ""
) -> Outcome:
    """Settle the bank transfer a statement line pays; idempotent (a line matched
    twice settles once)."""
    reference = parse_remittance_reference(narrative)
    if reference is None:
        raise BusinessError({"narrative": [_("No remittance reference found in the line.")]})
    attempt = PaymentAttempt.objects.filter(method=METHOD, provider_reference=reference).first()
    if attempt is None:
        raise BusinessError(
            {"narrative": [_("No payment notice has the reference %(ref)s.") % {"ref": reference}]}
        )
    if amount != attempt.amount:
        raise BusinessError(
            {
                "amount": [
                    _("The line pays %(paid)s; the notice %(ref)s asked for %(asked)s.")
                    % {
                        "paid": money_str(amount),
                        "ref": reference,
                        "asked": money_str(attempt.amount),
                    }
                ]
            },
            code="amount_mismatch",
        )
    return record_result(
        attempt.pk,
        CollectionResult(
            status="succeeded",
            provider_reference=reference,
            amount=amount,
            raw={"statement_line": line_reference, "booked_on": booked_on.isoformat()},
        ),
        on=booked_on,
    )
