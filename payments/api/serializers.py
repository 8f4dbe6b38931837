"""Shapes of payment attempts, refunds, write-off requests and mandates in the API.

As for contracts (contracts/api/serializers.py): the ``*WriteSerializer`` check the
shape of a request and never save, the view hands what they validated to a service;
the read serializers render what the services return. Amounts are strings with the
currency's minor digits. A mandate's account number is shown masked, as its audit
events record it: the API is not where the full number is read back.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban

from billing.models import Charge
from contracts.api.serializers import AmountField
from contracts.models import MONEY_DIGITS, Customer
from feemgmt.api.scoping import CustomerScopedPrimaryKeyRelatedField
from feemgmt.core.money import money_str

from ..models import Mandate, PaymentAttempt, Refund, WriteOffRequest
from ..services.mandates import masked_iban


def _amount_input(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        **MONEY_DIGITS,
        min_value=Decimal("0.01"),
        error_messages={"min_value": _("The amount must be greater than zero.")},
        **kwargs,
    )


class _UsernameField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)


# --- Payment attempts ---------------------------------------------------------------


class PaymentAttemptSerializer(serializers.ModelSerializer):
    """One try to collect a charge. ``action_kind``/``action_value`` are what the
    customer has to do while it is pending (a QR code's content, a pay link, a
    remittance reference)."""

    amount = AmountField()
    currency = serializers.CharField(source="amount_currency", read_only=True)
    customer = serializers.IntegerField(source="charge.contract.customer_id", read_only=True)
    contract_number = serializers.CharField(source="charge.contract.number", read_only=True)

    class Meta:
        model = PaymentAttempt
        fields = [
            "id",
            "charge",
            "customer",
            "contract_number",
            "number",
            "idempotency_key",
            "method",
            "amount",
            "currency",
            "status",
            "provider_reference",
            "error_code",
            "error_message",
            "action_kind",
            "action_value",
            "mandate",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields


class PaymentAttemptDetailSerializer(PaymentAttemptSerializer):
    refundable = serializers.SerializerMethodField(
        help_text=_("What can still be refunded of it; null unless it succeeded.")
    )

    class Meta(PaymentAttemptSerializer.Meta):
        fields = [*PaymentAttemptSerializer.Meta.fields, "refundable"]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True, "example": "1200.00"})
    def get_refundable(self, attempt: PaymentAttempt) -> str | None:
        refundable = self.context.get("refundable")
        return None if refundable is None else money_str(refundable)


# --- Refunds ------------------------------------------------------------------------


class RefundSerializer(serializers.ModelSerializer):
    amount = AmountField()
    currency = serializers.CharField(source="amount_currency", read_only=True)
    charge = serializers.IntegerField(source="attempt.charge_id", read_only=True)
    customer = serializers.IntegerField(
        source="attempt.charge.contract.customer_id", read_only=True
    )
    requested_by = _UsernameField(source="requested_by.username")

    class Meta:
        model = Refund
        fields = [
            "id",
            "attempt",
            "charge",
            "customer",
            "number",
            "idempotency_key",
            "amount",
            "currency",
            "reason",
            "source",
            "status",
            "provider_reference",
            "error_code",
            "error_message",
            "requested_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


@extend_schema_serializer(component_name="Refund")
class RefundWriteSerializer(serializers.Serializer):
    """``amount`` is in the attempt's currency and at most what it can still refund."""

    attempt = CustomerScopedPrimaryKeyRelatedField(
        queryset=PaymentAttempt.objects.select_related("charge"),
        customer_path="charge__contract__customer",
        help_text=_("The successful payment attempt the money is given back from."),
    )
    amount = _amount_input(help_text=_('Amount to refund, e.g. "120.00".'))
    reason = serializers.CharField(max_length=200)


# --- Write-off requests ---------------------------------------------------------


class WriteOffRequestSerializer(serializers.ModelSerializer):
    amount = AmountField()
    currency = serializers.CharField(source="amount_currency", read_only=True)
    customer = serializers.IntegerField(source="charge.contract.customer_id", read_only=True)
    requested_by = _UsernameField(source="requested_by.username")
    decided_by = _UsernameField(source="decided_by.username")

    class Meta:
        model = WriteOffRequest
        fields = [
            "id",
            "charge",
            "customer",
            "amount",
            "currency",
            "reason",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields


@extend_schema_serializer(component_name="WriteOffRequest")
class WriteOffWriteSerializer(serializers.Serializer):
    """What is outstanding on the charge now is what is asked to be written off."""

    charge = CustomerScopedPrimaryKeyRelatedField(
        queryset=Charge.objects.all(), customer_path="contract__customer"
    )
    reason = serializers.CharField(max_length=200)


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


# --- Mandates -------------------------------------------------------------------


class MandateSerializer(serializers.ModelSerializer):
    debtor_iban = serializers.SerializerMethodField(
        help_text=_("The debtor's IBAN masked to its first and last four characters.")
    )
    limit = serializers.SerializerMethodField(
        help_text=_("Most that one charge may be debited; null for no limit.")
    )
    limit_currency = serializers.SerializerMethodField()

    class Meta:
        model = Mandate
        fields = [
            "id",
            "customer",
            "reference",
            "signed_on",
            "debtor_name",
            "debtor_iban",
            "debtor_bic",
            "limit",
            "limit_currency",
            "valid_until",
            "status",
            "revoked_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_debtor_iban(self, mandate: Mandate) -> str:
        return masked_iban(mandate.debtor_iban)

    @extend_schema_field({"type": "string", "nullable": True, "example": "5000.00"})
    def get_limit(self, mandate: Mandate) -> str | None:
        return None if mandate.limit is None else money_str(mandate.limit)

    @extend_schema_field({"type": "string", "nullable": True, "example": "CNY"})
    def get_limit_currency(self, mandate: Mandate) -> str | None:
        return None if mandate.limit is None else mandate.limit.currency.code


@extend_schema_serializer(component_name="Mandate")
class MandateWriteSerializer(serializers.Serializer):
    """The signed form typed in: the account numbers are tidied as typed
    ("de89 3704 …" → "DE893704…") and checked by the model (IBAN, BIC, dates)."""

    customer = CustomerScopedPrimaryKeyRelatedField(
        queryset=Customer.objects.all(), customer_path="pk"
    )
    reference = serializers.CharField(max_length=35)
    signed_on = serializers.DateField()
    debtor_name = serializers.CharField(max_length=70)
    debtor_iban = serializers.CharField(max_length=42)
    debtor_bic = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
    limit = _amount_input(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("In the customer's currency; leave out for no limit."),
    )
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)

    def validate_debtor_iban(self, value: str) -> str:
        return stdnum_iban.compact(value)

    def validate_debtor_bic(self, value: str) -> str:
        return stdnum_bic.compact(value)
