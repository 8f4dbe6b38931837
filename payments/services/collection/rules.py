"""What every collection path shares: the outcomes, the retry schedule, what a
charge still owes, the request a gateway is sent, and which charges are due."""

from __future__ import annotations

import datetime as dt
import logging
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse

from billing.choices import COLLECTABLE_STATUSES
from billing.models import Charge
from contracts.choices import SigningTreatment
from feemgmt.core.money import Money, money_from_db
from ledger.choices import AccountPurpose
from ledger.postings import charge_subject
from ledger.selectors import customer_subject_balance
from payments.adapters import CollectionRequest
from payments.choices import AttemptStatus

logger = logging.getLogger("payments.services.collection")

LOCK_NAMESPACE = "charge-collection"
COLLECTABLE = COLLECTABLE_STATUSES


class Outcome(StrEnum):
    """What one call of :func:`charge_collect` did (for tasks, logs and staff)."""

    BUSY = "busy"  # another worker holds the charge
    NOT_DUE = "not_due"  # nothing to do today (or the charge is settled)
    PAID = "paid"
    PENDING = "pending"  # waiting for the customer, the bank or a notification
    UNKNOWN = "unknown"  # no answer yet; asked again on the next sweep
    FAILED = "failed"  # declined; a retry is scheduled
    OVERDUE = "overdue"
    BLOCKED = "blocked"  # cannot be attempted (no mandate, over its limit, no adapter)


def retry_days() -> list[int]:
    return [int(days) for days in settings.PAYMENT_RETRY_DAYS]


def overdue_after(charge: Charge) -> dt.date:
    """The day after which an unpaid charge is overdue: the due date plus every retry."""
    return overdue_after_due(charge.due_date)


def overdue_after_due(due_date: dt.date) -> dt.date:
    return due_date + dt.timedelta(days=sum(retry_days()))


def charge_treatment(charge: Charge) -> str:
    return charge.fee.treatment or SigningTreatment.FEE


def outstanding(charge: Charge) -> Money:
    """What is still to collect on a charge.

    A fee charge is booked as receivable, so the ledger says (payments, prepaid
    applied and write-offs included). A prepayment or deposit is booked only when
    collected: the charge less what its attempts collected.
    """
    currency = charge.amount.currency.code
    if charge_treatment(charge) == SigningTreatment.FEE:
        if charge.amount.amount == 0:
            return charge.amount
        # A read: a customer without a receivable account yet owes nothing on it.
        return customer_subject_balance(
            customer_id=charge.contract.customer_id,
            purpose=AccountPurpose.RECEIVABLE,
            currency=currency,
            subject=charge_subject(charge.pk),
        )
    collected = charge.attempts.filter(status=AttemptStatus.SUCCEEDED).aggregate(
        total=Sum("amount")
    )["total"]
    return charge.amount - money_from_db(collected, currency)


def notify_url(method: str) -> str:
    return settings.PAYMENT_NOTIFY_BASE_URL.rstrip("/") + reverse(
        "payments:notify", kwargs={"method": method}
    )


def notify_after_commit(notice, *args, **kwargs) -> None:
    """Send a customer notice once the outcome is committed. A notice that cannot be
    sent (mail server down) is logged; it never undoes or fails the collection."""

    def send():
        try:
            notice(*args, **kwargs)
        except Exception:
            logger.exception("customer notice %s%s not sent", notice.__name__, args)

    transaction.on_commit(send)


def collectable_charge_ids(*, on: dt.date, after: int = 0, limit: int | None = None) -> list[int]:
    """Charges whose next collection step is due, by id (for the sweep's chunks)."""
    ids = (
        Charge.objects.filter(status__in=COLLECTABLE, next_attempt_on__lte=on, id__gt=after)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return list(ids[:limit] if limit else ids)


def collection_request(
    *,
    key: str,
    amount: Money,
    method: str,
    charge_id: int,
    charge_label: str,
    contract_number: str,
    customer_code: str,
    metadata: dict[str, str] | None = None,
    mandate_limit: Money | None = None,
) -> CollectionRequest:
    """What the gateway is asked for an attempt: one shape for every path
    (``charge_label`` is the charge's kind and period, as the customer reads it)."""
    return CollectionRequest(
        idempotency_key=key,
        amount=amount,
        reference=f"{contract_number}-{charge_id}",
        description=f"{contract_number} {charge_label}",
        customer_ref=customer_code,
        notify_url=notify_url(method),
        metadata={"contract": contract_number, "charge": str(charge_id), **(metadata or {})},
        mandate_limit=mandate_limit,
    )


def charge_label(kind_label: str, period_start: dt.date | None) -> str:
    return f"{kind_label} {period_start:%Y-%m}" if period_start else str(kind_label)
