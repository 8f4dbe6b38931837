from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from contracts.choices import FeeKind
from contracts.models import MONEY_DIGITS, Contract, Fee
from feemgmt.core.models import TimeStampedModel

from .choices import OPEN_AMENDMENT_STATUSES, AmendmentStatus, ChargeStatus, ConsentChannel


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


class FeeAmendment(TimeStampedModel):
    """A change of a recurring fee's amount from a future period start on
    (调整收费标准, docs/amendments.md).

    The fee row is never edited once its contract is signed (the database refuses
    it, contracts/triggers.py): the billing run charges each period the amount of the
    latest consented amendment effective on or before the period's start, and the
    fee's own amount before that. ``old_amount`` is the amount in force before
    ``effective_from`` when the change was proposed, shown beside the new one.
    """

    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="amendments", verbose_name=_("contract")
    )
    fee = models.ForeignKey(
        Fee, on_delete=models.PROTECT, related_name="amendments", verbose_name=_("fee")
    )
    old_amount = MoneyField(
        _("current amount"),
        **MONEY_DIGITS,
        currency_choices=settings.CURRENCY_CHOICES,
        default_currency=settings.DEFAULT_CURRENCY,
    )
    new_amount = MoneyField(
        _("new amount"),
        **MONEY_DIGITS,
        currency_choices=settings.CURRENCY_CHOICES,
        default_currency=settings.DEFAULT_CURRENCY,
    )
    effective_from = models.DateField(
        _("effective from"), help_text=_("The start of the first period charged the new amount.")
    )
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=AmendmentStatus.choices,
        default=AmendmentStatus.PROPOSED,
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    decided_at = models.DateTimeField(
        _("decided at"),
        null=True,
        blank=True,
        help_text=_("When it was consented, declined, rejected, withdrawn or lapsed."),
    )
    notified_at = models.DateTimeField(
        _("customer notified at"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("fee amendment")
        verbose_name_plural = _("fee amendments")
        ordering = ["-id"]
        permissions = [
            ("approve_feeamendment", _("Can approve or reject fee amendments")),
            ("record_decision_feeamendment", _("Can record a customer's decision on paper")),
        ]
        indexes = [
            models.Index(fields=["contract", "status"]),
            models.Index(fields=["status", "id"], name="amendment_status_id"),
            models.Index(
                fields=["effective_from"],
                condition=Q(status__in=OPEN_AMENDMENT_STATUSES),
                name="amendment_open_effective",
            ),
            models.Index(
                fields=["fee", "effective_from"],
                condition=Q(status=AmendmentStatus.CONSENTED),
                name="amendment_in_force",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["fee"],
                condition=Q(status__in=OPEN_AMENDMENT_STATUSES),
                name="amendment_one_open_per_fee",
                violation_error_message=_("This fee already has a change waiting for a decision."),
            ),
            models.UniqueConstraint(
                fields=["fee", "effective_from"],
                condition=Q(status=AmendmentStatus.CONSENTED),
                name="amendment_one_consented_per_start",
            ),
            models.CheckConstraint(
                condition=Q(new_amount__gt=0), name="amendment_new_amount_positive"
            ),
        ]

    def __str__(self):
        return f"{self.contract} {self.effective_from} {self.old_amount} → {self.new_amount}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_AMENDMENT_STATUSES


def consent_upload_to(decision, filename: str) -> str:
    amendment = decision.amendment
    return f"consents/{amendment.contract_id}/{amendment.pk}/{filename}"


class AmendmentDecision(models.Model):
    """The customer's answer to an amendment, kept as proof of what was agreed.

    In the portal: the customer user, the time, IP address, user agent and the exact
    text and amounts shown. On paper: the scanned signed document, its SHA-256 and
    the staff member who attached it. Written once by the decision's service.
    """

    amendment = models.OneToOneField(
        FeeAmendment,
        on_delete=models.PROTECT,
        related_name="decision",
        verbose_name=_("fee amendment"),
    )
    consented = models.BooleanField(_("consented"))
    channel = models.CharField(_("channel"), max_length=8, choices=ConsentChannel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
        help_text=_("The customer user in the portal, or the staff member who attached the paper."),
    )
    decided_at = models.DateTimeField(_("decided at"))
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.TextField(_("user agent"), blank=True)
    text_shown = models.TextField(_("text shown"), blank=True)
    terms_shown = models.JSONField(_("terms shown"), default=dict)
    comment = models.TextField(_("comment"), blank=True)
    document = models.FileField(_("signed document"), upload_to=consent_upload_to, blank=True)
    document_sha256 = models.CharField(_("SHA-256 of the document"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("amendment decision")
        verbose_name_plural = _("amendment decisions")
        constraints = [
            models.CheckConstraint(
                condition=~Q(channel=ConsentChannel.PAPER, consented=True) | ~Q(document_sha256=""),
                name="decision_paper_consent_has_document",
            ),
        ]

    def __str__(self):
        return f"{self.amendment_id} {self.get_channel_display()}"
