"""Collecting a charge (docs/collection.md).

For one charge, in this order:

1. An attempt still open is resolved first: an *unknown* one (a timeout, an error,
   a worker that died mid-call) by querying the gateway with its key; a *pending*
   one (a QR code, a payment notice, a queued direct debit) by asking again when
   its check date comes. Nothing new is tried while one is open.
2. What is left is paid from the customer's prepaid balance, all or part.
3. The rest goes to the contract's payment method: an attempt row is committed
   (status unknown, key ``CH<charge>-<n>``) before the gateway is called, and the
   answer is recorded in a second transaction.

A session advisory lock per charge keeps two workers from collecting the same
charge at once (a duplicate task just returns ``busy``); row locks on the charge
order the recording of answers against notifications and staff actions (always the
charge's row first, then the attempt's, then ledger accounts, so no two writers
wait on each other in a cycle); unique
constraints make every repeat a no-op. The key is derived from the attempt number,
so even a crash that loses the attempt row re-asks the gateway with the same key.

Outcomes follow the retry schedule (``settings.PAYMENT_RETRY_DAYS``): a decline
fails the charge and schedules the next attempt; after the last retry, or when a
payment is still outstanding past the schedule's end, the charge is overdue (and
still collectable: a late payment settles it). Money that arrives for a charge that
no longer needs it (paid twice, cancelled, written off) is never lost: it is
credited to the customer's prepaid balance and raises an alert.

A collection task takes its charges together (:mod:`.batch`): the ordinary ones in
a fixed number of queries per task, anything unusual through the single path, each
with the outcome it would have had alone.

Modules: :mod:`.rules` (outcomes, schedule, what is owed, the gateway request),
:mod:`.steps` (one charge), :mod:`.answers` (recording an answer), :mod:`.batch`.
"""

from .answers import record_result, record_unanswered, schedule_retry, settle_charge
from .batch import charges_collect
from .rules import (
    COLLECTABLE,
    LOCK_NAMESPACE,
    Outcome,
    charge_treatment,
    collectable_charge_ids,
    notify_after_commit,
    outstanding,
    overdue_after,
    retry_days,
)
from .steps import charge_collect

__all__ = [
    "COLLECTABLE",
    "LOCK_NAMESPACE",
    "Outcome",
    "charge_collect",
    "charge_treatment",
    "charges_collect",
    "collectable_charge_ids",
    "notify_after_commit",
    "outstanding",
    "overdue_after",
    "record_result",
    "record_unanswered",
    "retry_days",
    "schedule_retry",
    "settle_charge",
]
