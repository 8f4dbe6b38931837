"""Which mandate a direct debit is taken under, and whether it may be taken at all.

A charge paid by ``auto_debit`` is attempted only under the customer's active
mandate, signed on or before the debit, still valid, and with a limit (if any) in
the debit's currency and at or above the amount. Otherwise nothing is sent to the
bank: the caller raises an alert with the reason and looks again the next day.

Writing a mandate (staff type it in from the signed form) and revoking one are
recorded in the audit trail: ``mandate.created``, ``mandate.changed``,
``mandate.revoked``. The account number is recorded masked: the trail is kept
forever and cannot be corrected, so it holds no more of it than identifies it.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.canonical import normalise
from audit.services import audit_record, changes_between
from billing.models import Charge
from feemgmt.core.money import Money, money_str
from payments.choices import AttemptStatus, MandateStatus, SequenceType
from payments.events import mandates_revoked
from payments.models import Mandate, PaymentAttempt

MANDATE_METHODS = frozenset({"auto_debit"})

# What a mandate's events record.
RECORDED_FIELDS = (
    "customer",
    "reference",
    "signed_on",
    "debtor_name",
    "debtor_iban",
    "debtor_bic",
    "limit",
    "valid_until",
    "status",
    "revoked_at",
)


def masked_iban(iban: str) -> str:
    return f"{iban[:4]}****{iban[-4:]}" if len(iban) > 8 else "****"


def _recorded(mandate: Mandate) -> dict:
    values = {}
    for name in RECORDED_FIELDS:
        field = mandate._meta.get_field(name)
        values[name] = getattr(mandate, field.attname)
    values["debtor_iban"] = masked_iban(values["debtor_iban"] or "")
    return normalise(values)


@transaction.atomic
def mandate_save(*, mandate: Mandate) -> Mandate:
    """Save a mandate as staff typed it in (validated by its form and model) and
    record it: ``mandate.created`` with what it says, or ``mandate.changed`` with the
    fields that changed. Its status changes only through :func:`mandates_revoke`."""
    if mandate.pk is None:
        mandate.save()
        audit_record(action="mandate.created", obj=mandate, changes={"after": _recorded(mandate)})
        return mandate
    stored = Mandate.objects.select_for_update().get(pk=mandate.pk)
    mandate.status, mandate.revoked_at = stored.status, stored.revoked_at
    mandate.save()
    changes = changes_between(_recorded(stored), _recorded(mandate))
    if changes:
        audit_record(action="mandate.changed", obj=mandate, changes=changes)
    return mandate


@transaction.atomic
def mandates_revoke(mandates: QuerySet[Mandate]) -> int:
    """The customer withdrew the authorisation: nothing more is debited under these
    mandates (debits already in a file are the bank's to answer). Returns how many
    were still to revoke; each one revoked records ``mandate.revoked``."""
    now = timezone.now()
    revoked = list(
        mandates.model.objects.select_for_update()
        .filter(pk__in=mandates.values("pk"))
        .exclude(status=MandateStatus.REVOKED)
        .order_by("pk")
    )
    for mandate in revoked:
        before = {"status": mandate.status, "revoked_at": mandate.revoked_at}
        mandate.status, mandate.revoked_at = MandateStatus.REVOKED, now
        mandate.save(update_fields=["status", "revoked_at", "updated_at"])
        audit_record(
            action="mandate.revoked",
            obj=mandate,
            changes=changes_between(
                before, {"status": mandate.status, "revoked_at": mandate.revoked_at}
            ),
        )
    if revoked:
        mandates_revoked.send(
            sender=Mandate, customer_ids=sorted({mandate.customer_id for mandate in revoked})
        )
    return len(revoked)


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
    if mandate.limit is not None and mandate.limit.currency != amount.currency:
        # A limit in another currency says nothing about this amount: converting it
        # would be a guess at a rate the customer never agreed to.
        return None, _(
            "Mandate %(reference)s has a limit in %(limit_currency)s, but charge "
            "%(charge)s is debited in %(currency)s: it was not debited. Set the "
            "mandate's limit in %(currency)s, or leave it empty."
        ) % {
            "reference": mandate.reference,
            "limit_currency": mandate.limit.currency.code,
            "charge": charge.pk,
            "currency": amount.currency.code,
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
    return data


def request_limit(attempt: PaymentAttempt) -> Money | None:
    """The mandate's limit for the adapter: Money, so its currency goes with it."""
    return attempt.mandate.limit if attempt.mandate_id else None
