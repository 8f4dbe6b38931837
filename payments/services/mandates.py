"""Which mandate a direct debit is taken under, and whether it may be taken at all.

A charge paid by ``auto_debit`` is attempted only under the customer's active
mandate, signed on or before the debit, still valid, and with a limit (if any) at or
above the amount. Otherwise nothing is sent to the bank: the caller raises an alert
with the reason and looks again the next day.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Charge
from feemgmt.core.money import Money, money_str
from payments.choices import AttemptStatus, MandateStatus, SequenceType
from payments.models import Mandate, PaymentAttempt

MANDATE_METHODS = frozenset({"auto_debit"})


def mandates_revoke(mandates: QuerySet[Mandate]) -> int:
    """The customer withdrew the authorisation: nothing more is debited under these
    mandates (debits already in a file are the bank's to answer). Returns how many
    were still to revoke."""
    now = timezone.now()
    return mandates.exclude(status=MandateStatus.REVOKED).update(
        status=MandateStatus.REVOKED, revoked_at=now, updated_at=now
    )


def required(method: str) -> bool:
    return method in MANDATE_METHODS


def for_charge(
    charge: Charge, amount: Money, *, on: dt.date | None = None
) -> tuple[Mandate | None, str]:
    """(the mandate to debit under, "") or (None, why the charge cannot be debited)."""
    today = on or timezone.localdate()
    customer = charge.contract.customer
    mandate = (
        Mandate.objects.filter(customer=customer, status=MandateStatus.ACTIVE)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .first()
    )
    if mandate is None:
        return None, _(
            "%(customer)s pays by direct debit but has no active mandate: charge %(charge)s "
            "was not debited."
        ) % {"customer": customer, "charge": charge.pk}
    if mandate.signed_on > today:
        return None, _("Mandate %(reference)s is signed with a date in the future.") % {
            "reference": mandate.reference
        }
    if mandate.limit is not None and amount > mandate.limit:
        return None, _(
            "%(amount)s is above the %(limit)s limit of mandate %(reference)s: charge "
            "%(charge)s was not debited."
        ) % {
            "amount": money_str(amount),
            "limit": money_str(mandate.limit),
            "reference": mandate.reference,
            "charge": charge.pk,
        }
    return mandate, ""


def sequence_type(mandate: Mandate, attempt: PaymentAttempt) -> str:
    """FRST for the first debit under a mandate, RCUR once another was sent or taken."""
    collected = (
        PaymentAttempt.objects.filter(
            mandate=mandate, status__in=[AttemptStatus.SUCCEEDED, AttemptStatus.PENDING]
        )
        .filter(pk__lt=attempt.pk)
        .exists()
    )
    return SequenceType.RECURRING if collected else SequenceType.FIRST


def request_metadata(attempt: PaymentAttempt) -> dict[str, str]:
    """What the auto_debit adapter needs to know about the mandate."""
    mandate = attempt.mandate
    data = {
        "mandate_reference": mandate.reference,
        "mandate_signed_on": mandate.signed_on.isoformat(),
        "debtor_name": mandate.debtor_name,
        "debtor_iban": mandate.debtor_iban,
        "sequence_type": sequence_type(mandate, attempt),
    }
    if mandate.debtor_bic:
        data["debtor_bic"] = mandate.debtor_bic
    if mandate.limit is not None:
        data["mandate_limit"] = str(mandate.limit.amount)
    return data
