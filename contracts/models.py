from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from feemgmt.core.models import TimeStampedModel

from .choices import Alignment, ContractStatus, Cycle, FeeKind, Proration, SigningTreatment
from .validators import validate_credit_code, validate_currency, validate_payment_method

MONEY_DIGITS = {"max_digits": 14, "decimal_places": 2}


def payment_method_choices():
    return [(key, label) for key, label in settings.PAYMENT_METHODS.items()]


class Customer(TimeStampedModel):
    """A company (or person) that owes management fees under its contracts."""

    code = models.CharField(_("customer code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("contact email"))
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default=settings.DEFAULT_CURRENCY,
        validators=[validate_currency],
    )
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        blank=True,
        validators=[validate_credit_code],
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="customer_credit_code_unique",
                violation_error_message=_("Another customer has this credit code."),
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class Contract(TimeStampedModel):
    """A signed agreement that sets the fees a customer owes and when.

    Fees are editable only while the contract is a draft; signing freezes them, and
    later changes go through amendments the customer consents to.
    """

    number = models.CharField(_("contract number"), max_length=40, unique=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("customer")
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default=settings.DEFAULT_CURRENCY,
        validators=[validate_currency],
    )
    service_start = models.DateField(_("service start"))
    service_end = models.DateField(
        _("service end"), null=True, blank=True, help_text=_("Last day of service, inclusive.")
    )
    alignment = models.CharField(
        _("period alignment"), max_length=16, choices=Alignment.choices, default=Alignment.CALENDAR
    )
    proration = models.CharField(
        _("proration"), max_length=8, choices=Proration.choices, default=Proration.DAILY
    )
    payment_method = models.CharField(
        _("payment method"),
        max_length=32,
        choices=payment_method_choices,
        validators=[validate_payment_method],
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ContractStatus.choices, default=ContractStatus.DRAFT
    )
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    terminated_at = models.DateTimeField(_("terminated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["customer", "status"]),
            models.Index(fields=["status", "service_start"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=ContractStatus.DRAFT) | Q(signed_on__isnull=False),
                name="contract_signed_has_date",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def is_draft(self) -> bool:
        return self.status == ContractStatus.DRAFT


class Fee(models.Model):
    """One fee item of a contract: what is charged, and for recurring fees how often.

    ``next_due_date`` is the billing run's bookmark: the due date of the earliest
    charge of this fee not yet created (null when none is left, or before signing).
    It only ever narrows the work; the uniqueness of (fee, period start) on Charge is
    what guarantees a charge exists once.
    """

    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="fees", verbose_name=_("contract")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=FeeKind.choices)
    amount = MoneyField(
        _("amount"),
        **MONEY_DIGITS,
        currency_choices=settings.CURRENCY_CHOICES,
        default_currency=settings.DEFAULT_CURRENCY,
    )
    cycle = models.CharField(_("cycle"), max_length=16, choices=Cycle.choices, blank=True)
    treatment = models.CharField(
        _("treatment"), max_length=16, choices=SigningTreatment.choices, blank=True
    )
    next_due_date = models.DateField(_("next due date"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("fee")
        verbose_name_plural = _("fees")
        ordering = ["contract_id", "id"]
        indexes = [
            models.Index(
                fields=["next_due_date", "id"],
                condition=Q(next_due_date__isnull=False),
                name="fee_billing_due_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="fee_amount_positive"),
            models.CheckConstraint(
                condition=Q(kind=FeeKind.RECURRING, cycle__in=Cycle.values)
                | (~Q(kind=FeeKind.RECURRING) & Q(cycle="")),
                name="fee_cycle_iff_recurring",
            ),
            models.CheckConstraint(
                condition=Q(kind=FeeKind.SIGNING, treatment__in=SigningTreatment.values)
                | (~Q(kind=FeeKind.SIGNING) & Q(treatment="")),
                name="fee_treatment_iff_signing",
            ),
        ]

    def __str__(self):
        label = self.get_cycle_display() if self.cycle else self.get_kind_display()
        return f"{label} {self.amount}"
