from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from contracts.choices import FeeKind
from contracts.models import MONEY_DIGITS, Contract, Fee

from .choices import ChargeStatus


class Charge(models.Model):
    """An amount a customer owes for one fee item and one period (or once, for
    one-off fees), created by the billing run on or after its due date.

    (fee, period_start) is unique in the database, and a fee's one-off charge is
    unique on its own: that, not a look-up before inserting, is what makes the
    billing run safe to repeat and to run in two workers at once.
    """

    # No index of its own: (contract, due_date) leads with it, and each index is one
    # more write per charge billed or paid. (The fee keeps its own: removing it would
    # drop the partial unique index on the fee alone with it.)
    contract = models.ForeignKey(
        Contract,
        on_delete=models.PROTECT,
        related_name="charges",
        verbose_name=_("contract"),
        db_index=False,
    )
    fee = models.ForeignKey(
        Fee, on_delete=models.PROTECT, related_name="charges", verbose_name=_("fee")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=FeeKind.choices)
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(
        _("period end"), null=True, blank=True, help_text=_("Last day of the period, inclusive.")
    )
    due_date = models.DateField(_("due date"))
    amount = MoneyField(
        _("amount"),
        **MONEY_DIGITS,
        currency_choices=settings.CURRENCY_CHOICES,
        default_currency=settings.DEFAULT_CURRENCY,
    )
    prorated = models.BooleanField(
        _("prorated"), default=False, help_text=_("Charged for part of a period, by days used.")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ChargeStatus.choices, default=ChargeStatus.PENDING
    )
    next_attempt_on = models.DateField(
        _("next collection step"),
        null=True,
        blank=True,
        help_text=_(
            "When collection next acts on this charge: the first attempt on the due date, "
            "a retry, or a check on a payment in progress. Empty once nothing is left to do."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        ordering = ["-due_date", "-id"]
        # The API lists charges newest due first by (due_date, id), a keyset: each
        # filter it offers has an index in that order after its equality column, so
        # a page from any cursor is one short range scan (docs/PERFORMANCE.md).
        # A contract's charges are few: (contract, due_date) serves that filter and
        # a customer's.
        indexes = [
            models.Index(fields=["contract", "due_date"]),
            models.Index(fields=["status", "due_date", "id"], name="charge_status_due_id"),
            models.Index(fields=["due_date", "id"], name="charge_due_id"),
            models.Index(fields=["kind", "due_date", "id"], name="charge_kind_due_id"),
            models.Index(
                fields=["next_attempt_on"],
                condition=Q(next_attempt_on__isnull=False),
                name="charge_collection_due",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["fee", "period_start"], name="charge_unique_fee_period"
            ),
            models.UniqueConstraint(
                fields=["fee"],
                condition=Q(period_start__isnull=True),
                name="charge_unique_one_off_fee",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="charge_amount_not_negative"),
            models.CheckConstraint(
                condition=(Q(period_start__isnull=True) & Q(period_end__isnull=True))
                | Q(period_end__gte=F("period_start")),
                name="charge_period_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.contract} {self.get_kind_display()} {self.due_date} {self.amount}"
