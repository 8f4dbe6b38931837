"""Releasing a deposit when its contract ends: asked by one user, approved by another.

The release records what its approver saw — the deposit held, what of it pays
which charge the customer still owes, and what is refunded — and the database
keeps the rules: one release a contract (a rejected one may be asked again), the
parts adding up to the deposit, and a decision by someone other than the
requester (docs/collection.md, "Deposits").
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from contracts.models import Contract

from ..choices import ApprovalStatus
from .approvals import Approval
from .keys import MONEY
from .refunds import Refund


class DepositRelease(Approval):
    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        related_name="deposit_releases",
        verbose_name=_("contract"),
    )
    held = MoneyField(_("deposit held"), **MONEY)
    applied = MoneyField(_("applied to charges owed"), **MONEY)
    refunded = MoneyField(_("refunded"), **MONEY)
    # [{"charge": id, "amount": "12.34"}, ...] in the order applied.
    plan = models.JSONField(_("charges paid from the deposit"), default=list, blank=True)
    refunds = models.ManyToManyField(
        Refund, blank=True, related_name="deposit_releases", verbose_name=_("refunds")
    )

    class Meta:
        verbose_name = _("deposit release")
        verbose_name_plural = _("deposit releases")
        ordering = ["-requested_at", "-id"]
        permissions = [("approve_depositrelease", _("Can approve deposit releases"))]
        constraints = [
            models.UniqueConstraint(
                fields=["contract"],
                condition=~Q(status=ApprovalStatus.REJECTED),
                name="deposit_release_once_per_contract",
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="deposit_release_decided_by_another_user",
            ),
            models.CheckConstraint(
                condition=Q(held=F("applied") + F("refunded")),
                name="deposit_release_parts_add_up",
            ),
            models.CheckConstraint(
                condition=Q(held__gt=0, applied__gte=0, refunded__gte=0),
                name="deposit_release_amounts",
            ),
        ]

    def __str__(self):
        return f"{self.contract} {self.held}"
