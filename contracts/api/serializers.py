"""Shapes of customers and contracts in the API.

Two kinds of serializer, on purpose:

- ``*WriteSerializer`` check the shape and types of what an integrator sends
  (choices, dates, decimals) and nothing else. They never save: the view hands
  their ``validated_data`` to a service, which applies the business rules and
  raises ``BusinessError`` (a 400 with a message per field) when one refuses.
- The read serializers render what the API returns. Amounts are strings with the
  currency's minor digits ("1200.00", JPY "1200"); dates are ISO 8601.

The write serializers carry the same component name as the read ones, so the
OpenAPI schema (split into request and response components) shows ``Contract``
and ``ContractRequest`` rather than two unrelated names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from moneyed import Money
from rest_framework import serializers

from contracts.choices import Alignment, Cycle, FeeKind, Proration, SigningTreatment
from contracts.models import Contract, Customer, Fee
from contracts.services import FeeInput
from feemgmt.api.scoping import CustomerScopedPrimaryKeyRelatedField
from feemgmt.core.money import money_str

CURRENCY_CHOICES = list(settings.CURRENCIES)
PAYMENT_METHOD_CHOICES = list(settings.PAYMENT_METHODS.items())


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": r"^\d+(\.\d+)?$",
        "example": "1200.00",
        "description": "Amount with the currency's minor digits (JPY has none).",
    }
)
class AmountField(serializers.Field):
    """A Money rendered as a string with exactly its currency's minor digits."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Money) -> str:
        return money_str(value)


class OptionalChoiceField(serializers.ChoiceField):
    """A choice that may be absent: stored as "", shown as null, and accepted as
    null, "" or omitted on input."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(data) or ""

    def to_representation(self, value):
        return value or None


def _amount_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        error_messages={"min_value": _("The amount must be greater than zero.")},
        help_text=_(
            'Amount as a decimal string, e.g. "1200.00"; at most the currency\'s minor '
            "digits (none for JPY)."
        ),
        **kwargs,
    )


# --- Customers --------------------------------------------------------------


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = [
            "id",
            "code",
            "name",
            "email",
            "currency",
            "credit_code",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


@extend_schema_serializer(component_name="Customer")
class CustomerWriteSerializer(serializers.Serializer):
    code = serializers.CharField(label=_("customer code"), max_length=32)
    name = serializers.CharField(label=_("name"), max_length=200)
    email = serializers.EmailField(label=_("contact email"), max_length=254)
    currency = serializers.ChoiceField(
        label=_("currency"),
        choices=CURRENCY_CHOICES,
        required=False,
        help_text=_("Defaults to the system's default currency."),
    )
    credit_code = serializers.CharField(
        label=_("unified social credit code"),
        max_length=18,
        required=False,
        allow_blank=True,
        help_text=_("Unified social credit code: 18 characters with a check digit; may be blank."),
    )


# --- Contracts and their fees ----------------------------------------------


class FeeSerializer(serializers.ModelSerializer):
    amount = AmountField()
    cycle = OptionalChoiceField(choices=Cycle.choices, read_only=True)
    treatment = OptionalChoiceField(choices=SigningTreatment.choices, read_only=True)

    class Meta:
        model = Fee
        fields = ["id", "kind", "amount", "cycle", "treatment"]
        read_only_fields = fields


@extend_schema_serializer(component_name="Fee")
class FeeWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(label=_("kind"), choices=FeeKind.choices)
    amount = _amount_field(label=_("amount"))
    cycle = OptionalChoiceField(
        label=_("cycle"),
        choices=Cycle.choices,
        required=False,
        help_text=_("Required for recurring fees, and only for them."),
    )
    treatment = OptionalChoiceField(
        label=_("treatment"),
        choices=SigningTreatment.choices,
        required=False,
        help_text=_("Required for signing fees, and only for them."),
    )


def fee_inputs(fees: Iterable[Mapping]) -> list[FeeInput]:
    """Validated fee dicts as the service's input type."""
    return [
        FeeInput(
            kind=fee["kind"],
            amount=fee["amount"],
            cycle=fee.get("cycle") or "",
            treatment=fee.get("treatment") or "",
        )
        for fee in fees
    ]


class ContractSerializer(serializers.ModelSerializer):
    fees = FeeSerializer(many=True, read_only=True)

    class Meta:
        model = Contract
        fields = [
            "id",
            "customer",
            "number",
            "currency",
            "service_start",
            "service_end",
            "alignment",
            "proration",
            "payment_method",
            "status",
            "signed_on",
            "terminated_at",
            "fees",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


@extend_schema_serializer(component_name="Contract")
class ContractWriteSerializer(serializers.Serializer):
    # a key scoped to a customer may name only that one (any other: "does not exist")
    customer = CustomerScopedPrimaryKeyRelatedField(
        label=_("customer"), queryset=Customer.objects.all(), customer_path="pk"
    )
    number = serializers.CharField(label=_("contract number"), max_length=40)
    currency = serializers.ChoiceField(
        label=_("currency"),
        choices=CURRENCY_CHOICES,
        required=False,
        help_text=_("Defaults to the customer's currency."),
    )
    service_start = serializers.DateField(label=_("service start"))
    service_end = serializers.DateField(
        label=_("service end"),
        required=False,
        allow_null=True,
        help_text=_("Last day of service, inclusive; null for an open-ended contract."),
    )
    alignment = serializers.ChoiceField(
        label=_("period alignment"), choices=Alignment.choices, required=False
    )
    proration = serializers.ChoiceField(
        label=_("proration"), choices=Proration.choices, required=False
    )
    payment_method = serializers.ChoiceField(
        label=_("payment method"), choices=PAYMENT_METHOD_CHOICES
    )
    fees = FeeWriteSerializer(
        many=True,
        help_text=_(
            "The contract's fee items. Replaced as a whole on update, and only while the "
            "contract is a draft."
        ),
    )


class ContractSignSerializer(serializers.Serializer):
    signed_on = serializers.DateField(
        label=_("signed on"), help_text=_("The signing date; not in the future.")
    )


class ContractTerminateSerializer(serializers.Serializer):
    end_date = serializers.DateField(
        label=_("end date"),
        help_text=_(
            "The last day of service, inclusive; nothing is charged for the days after it."
        ),
    )
