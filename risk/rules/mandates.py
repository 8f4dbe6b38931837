"""Rules about direct debit mandates: one running out soon, and one revoked while
its customer still has charges to be debited (docs/risk.md)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alerts.choices import AlertKind
from billing.choices import COLLECTABLE_STATUSES
from billing.models import Charge
from payments.choices import MandateStatus
from payments.models import Mandate

from .base import Check, Finding, Rule, subject

AUTO_DEBIT = "auto_debit"


def mandate_expiring(check: Check):
    """Active mandates whose last valid day is within the next N days."""
    rows = (
        Mandate.objects.filter(
            status=MandateStatus.ACTIVE,
            valid_until__gte=check.today,
            valid_until__lte=check.today + dt.timedelta(days=check.days),
        )
        .values("id", "reference", "valid_until", "customer_id")
        .order_by("id")
    )
    for row in rows:
        yield Finding(
            subject=subject("mandate", row["id"]),
            customer_id=row["customer_id"],
            message=_("Mandate %(reference)s is valid only until %(date)s.")
            % {"reference": row["reference"], "date": row["valid_until"].isoformat()},
        )


def mandate_revoked(check: Check):
    """Revoked or expired mandates whose customer has no active one, while charges
    of contracts paid by direct debit are still to collect."""
    owing = Charge.objects.filter(
        contract__customer_id=OuterRef("customer_id"),
        contract__payment_method=AUTO_DEBIT,
        status__in=COLLECTABLE_STATUSES,
    )
    active = Mandate.objects.filter(
        customer_id=OuterRef("customer_id"), status=MandateStatus.ACTIVE
    )
    mandates = Mandate.objects.filter(status__in=[MandateStatus.REVOKED, MandateStatus.EXPIRED])
    if (ids := check.ids("customer")) is not None:
        mandates = mandates.filter(customer_id__in=ids)
    rows = (
        mandates.filter(Exists(owing))
        .exclude(Exists(active))
        .values("id", "reference", "status", "customer_id")
        .order_by("id")
    )
    for row in rows:
        yield Finding(
            subject=subject("mandate", row["id"]),
            customer_id=row["customer_id"],
            message=_(
                "Mandate %(reference)s is %(status)s, but the customer still has charges "
                "to collect by direct debit."
            )
            % {"reference": row["reference"], "status": MandateStatus(row["status"]).label},
        )


RULES = (
    Rule(
        code=AlertKind.MANDATE_EXPIRING,
        description=gettext_lazy("An active mandate runs out within N days."),
        thresholds=("days",),
        find=mandate_expiring,
    ),
    Rule(
        code=AlertKind.MANDATE_REVOKED,
        description=gettext_lazy(
            "A mandate was revoked (or expired) while its customer has charges to "
            "collect by direct debit and no other active mandate."
        ),
        thresholds=(),
        find=mandate_revoked,
        scopes=("customer",),
    ),
)
