"""Direct debits under mandates: batching due debits into pain.008 files, and
reading the bank's answers (pain.002 status reports, camt.054 notifications).

A debit attempt is PENDING once the auto_debit adapter accepted it; the batch task
gathers every such attempt not yet in a file (row locks, SKIP LOCKED: two batch
runs never put a debit in two files) into one pain.008 per currency, asking for
collection ``AUTO_DEBIT_LEAD_DAYS`` ahead. The end-to-end id of each debit is the
attempt's idempotency key, which is how the bank's answers find it again:

- pain.002 RJCT (group, payment block or transaction) → the attempt is declined
  with the bank's reason, and the charge follows the retry schedule;
- camt.054 credit for the debit → the attempt succeeded (booked, receipt sent);
- camt.054 return or reversal of a debit we had booked → the payment's journal
  entry is reversed, and so is the part of it credited to the prepaid balance as
  an excess; the attempt becomes *returned*, the charge is owed again (failed,
  retried on the schedule) and an alert is raised (critical when the excess was
  already spent and cannot be taken back).

Every answer is applied idempotently: importing the same file twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.choices import AlertKind, Severity
from alerts.services import alert_raise
from billing.choices import ChargeStatus
from billing.models import Charge
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import Money
from ledger.choices import EntryKind
from ledger.models import JournalEntry
from ledger.postings import charge_subject, post_reversal
from payments.adapters import CollectionResult, get_adapter
from payments.adapters.auto_debit import (
    AutoDebitAdapter,
    Iso20022Error,
    build_pain008,
    debit_from_metadata,
    read_camt054,
    read_pain002,
    read_pain008,
    reason_text,
    resolve_statuses,
)
from payments.choices import AttemptStatus
from payments.models import DirectDebitBatch, PaymentAttempt

from . import mandates
from .attempts import attempt_return
from .collection import COLLECTABLE, record_result, schedule_retry

logger = logging.getLogger(__name__)

METHOD = "auto_debit"


def _adapter() -> AutoDebitAdapter:
    adapter = get_adapter(METHOD)
    if not isinstance(adapter, AutoDebitAdapter):
        raise BusinessError(_("The auto_debit payment method is not a direct debit adapter."))
    return adapter


@transaction.atomic
def direct_debit_batches_create(*, on: dt.date | None = None) -> list[DirectDebitBatch]:
    """One pain.008 per currency with every accepted debit not yet in a file."""
    on = on or timezone.localdate()
    # Only attempt rows, and never waiting for one (SKIP LOCKED): an attempt whose
    # charge is being worked on (charge, then attempt, as every other writer locks
    # them) simply waits for the next batch.
    attempts = list(
        PaymentAttempt.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(method=METHOD, status=AttemptStatus.PENDING, batch__isnull=True)
        .select_related("mandate", "charge__contract")
        .order_by("id")
    )
    if not attempts:
        return []
    adapter = _adapter()
    collection_date = on + dt.timedelta(days=settings.AUTO_DEBIT_LEAD_DAYS)
    by_currency: dict[str, list[PaymentAttempt]] = defaultdict(list)
    for attempt in attempts:
        by_currency[attempt.amount.currency.code].append(attempt)
    batches = []
    stamp = timezone.now()
    for currency, group in sorted(by_currency.items()):
        message_id = f"FM{stamp:%Y%m%d%H%M%S}{currency}{group[0].pk}"[:30]
        debits = [
            debit_from_metadata(
                attempt.idempotency_key,
                attempt.amount,
                mandates.request_metadata(attempt),
                collection_date=collection_date,
                remittance=f"{attempt.charge.contract.number} {attempt.idempotency_key}",
            )
            for attempt in group
        ]
        document = build_pain008(adapter.creditor, debits, message_id=message_id, created_at=stamp)
        batch = DirectDebitBatch.objects.create(
            message_id=message_id,
            collection_date=collection_date,
            transactions=len(group),
            control_sum=sum(a.amount.amount for a in group),
            currency=currency,
            document=document.decode(),
        )
        PaymentAttempt.objects.filter(pk__in=[a.pk for a in group]).update(batch=batch)
        batches.append(batch)
    return batches


@dataclass
class ReportResult:
    """What importing one bank file did."""

    kind: str  # "pain.002" or "camt.054"
    settled: int = 0
    rejected: int = 0
    returned: int = 0
    unchanged: int = 0
    unmatched: list[str] = field(default_factory=list)


def direct_debit_report_import(data: bytes, *, on: dt.date | None = None) -> ReportResult:
    """Apply a pain.002 or camt.054 from the bank; raises Iso20022Error (with a line
    number) for a file that is neither, and changes nothing then."""
    on = on or timezone.localdate()
    head = data[:2000]
    if b"pain.002" in head:
        return _apply_pain002(data, on=on)
    if b"camt.054" in head:
        return _apply_camt054(data, on=on)
    raise Iso20022Error(_("The file is neither a pain.002 status report nor a camt.054."))


def _attempt(key: str | None) -> PaymentAttempt | None:
    if not key:
        return None
    return PaymentAttempt.objects.filter(method=METHOD, idempotency_key=key).first()


def _apply_pain002(data: bytes, *, on: dt.date) -> ReportResult:
    statuses = read_pain002(data)
    result = ReportResult("pain.002")
    by_message: dict[str, list] = defaultdict(list)
    for status in statuses:
        by_message[status.original_message_id].append(status)
    for message_id, lines in by_message.items():
        batch = DirectDebitBatch.objects.filter(message_id=message_id).first()
        if batch is None:
            result.unmatched.append(message_id)
            continue
        decided = resolve_statuses(lines, read_pain008(batch.document.encode()))
        for key, status in decided.items():
            attempt = _attempt(key)
            if attempt is None:
                result.unmatched.append(key)
            elif status.rejected and attempt.is_open:
                record_result(
                    attempt.pk,
                    CollectionResult(
                        status="declined",
                        error_code=status.reason_code or "debit_rejected",
                        error_message=status.reason_text or reason_text(status.reason_code),
                        raw={"report": "pain.002", "status": status.status},
                    ),
                    on=on,
                )
                result.rejected += 1
            else:
                result.unchanged += 1
    return result


def _apply_camt054(data: bytes, *, on: dt.date) -> ReportResult:
    result = ReportResult("camt.054")
    for entry in read_camt054(data):
        attempt = _attempt(entry.end_to_end_id)
        if attempt is None:
            result.unmatched.append(entry.end_to_end_id or entry.entry_reference or "?")
            continue
        booked_on = entry.booking_date or on
        if entry.credit_debit == "CRDT" and not entry.reversal:
            if attempt.status == AttemptStatus.SUCCEEDED:
                result.unchanged += 1
                continue
            record_result(
                attempt.pk,
                CollectionResult(
                    status="succeeded",
                    provider_reference=attempt.idempotency_key,
                    amount=entry.amount or attempt.amount,
                    raw={"report": "camt.054", "entry": entry.account_servicer_reference or ""},
                ),
                on=booked_on,
            )
            result.settled += 1
        elif (entry.returned or entry.reversal) and _debit_returned(attempt, entry, on=booked_on):
            result.returned += 1
        else:
            result.unchanged += 1
    return result


@transaction.atomic
def _debit_returned(attempt: PaymentAttempt, entry, *, on: dt.date) -> bool:
    """The bank took a debit back (unpaid, refused or claimed by the debtor)."""
    charge = (
        Charge.objects.select_for_update(of=("self",))
        .select_related("contract__customer")
        .get(pk=attempt.charge_id)
    )
    attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt.pk)
    reason = entry.return_reason or ("reversal" if entry.reversal else "returned")
    text = entry.return_text or reason_text(entry.return_reason)
    if attempt.is_open:
        # Returned before we saw it credited: a decline like any other.
        record_result(
            attempt.pk,
            CollectionResult(status="declined", error_code=reason, error_message=text),
            on=on,
        )
        return True
    if attempt.status != AttemptStatus.SUCCEEDED:
        return False
    booked = f"attempt:{attempt.idempotency_key}"
    payment = JournalEntry.objects.filter(kind=EntryKind.PAYMENT, reference=booked).first()
    if payment is not None:
        post_reversal(entry=payment, on=on, reference=f"{booked}:return")
    spent = _take_back_excess(attempt, on=on)
    message = _("Direct debit %(key)s of %(amount)s was returned by the bank: %(reason)s") % {
        "key": attempt.idempotency_key,
        "amount": attempt.amount,
        "reason": text or reason,
    }
    if spent is not None:
        message += " " + _(
            "The %(excess)s of it credited to the customer's prepaid balance was already "
            "spent, so it could not be taken back: correct the prepaid balance by hand."
        ) % {"excess": spent}
    alert_raise(
        kind=AlertKind.DEBIT_RETURNED,
        subject=charge_subject(charge.pk),
        customer=charge.contract.customer_id,
        severity=Severity.WARNING if spent is None else Severity.CRITICAL,
        message=message,
    )
    # The state changes last, so their audit events end the transaction: the attempt
    # is returned, and the charge owed again on the retry schedule (a paid one is
    # re-opened; see collection.schedule_retry).
    attempt_return(attempt=attempt, error_code=reason, error_message=text)
    if charge.status in (ChargeStatus.PAID, *COLLECTABLE):
        schedule_retry(charge, on=on)
    return True


def _take_back_excess(attempt: PaymentAttempt, *, on: dt.date) -> Money | None:
    """A returned debit also takes back what of it went to the prepaid balance (more
    than the charge still owed, or a charge cancelled meanwhile): the money never
    stayed with us, so the customer cannot spend it. ``None`` when done (or there
    was no excess); the excess when the balance no longer holds it, for staff."""
    excess = JournalEntry.objects.filter(
        kind=EntryKind.PREPAYMENT,
        reference=f"attempt:{attempt.idempotency_key}:excess",
        reversed_by__isnull=True,
    ).first()
    if excess is None:
        return None
    try:
        with transaction.atomic():
            post_reversal(entry=excess, on=on, reference=f"{excess.reference}:return")
    except BusinessError:
        # Spent on another charge since: reversing would overdraw the balance, which
        # the ledger refuses. The return itself is still a fact to record.
        amount = sum(line.amount for line in excess.lines.all() if line.amount > 0)
        return Money(amount, excess.currency)
    return None
