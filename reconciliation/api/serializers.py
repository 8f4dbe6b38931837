"""Shapes of receiving accounts, statements, their lines and discrepancies."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.api.serializers import ChargeSerializer
from contracts.api.serializers import AmountField

from ..choices import MatchStatus
from ..models import (
    BankAccount,
    Discrepancy,
    Match,
    ReconciliationRun,
    Statement,
    StatementLine,
)
from ..parsers import FORMATS
from ..selectors import transfer_instructions

# What an integrator sets on a receiving account (and reads back).
ACCOUNT_FIELDS = [
    "code",
    "name",
    "kind",
    "bank",
    "account_number",
    "holder",
    "payout_name",
    "currency",
    "default_format",
    "column_mapping",
    "receives_transfers",
]


class BankAccountSerializer(serializers.ModelSerializer):
    account_number = serializers.CharField(source="masked_number", read_only=True)

    class Meta:
        model = BankAccount
        fields = ["id", *ACCOUNT_FIELDS, "active"]
        read_only_fields = fields


class BankAccountWriteSerializer(serializers.ModelSerializer):
    class Meta:
        model = BankAccount
        fields = ACCOUNT_FIELDS
        # uniqueness and constraints are the service's to check, in one place
        validators = []
        extra_kwargs = {"code": {"validators": []}}


class PayToSerializer(serializers.ModelSerializer):
    """The full account number: this is what the customer types into their bank."""

    class Meta:
        model = BankAccount
        fields = ["code", "name", "bank", "account_number", "holder", "currency"]
        read_only_fields = fields


class ChargeDetailSerializer(ChargeSerializer):
    """A charge with how to pay it, for integrators printing their own invoices."""

    payment_reference = serializers.SerializerMethodField()
    pay_to = serializers.SerializerMethodField()

    class Meta(ChargeSerializer.Meta):
        fields = [*ChargeSerializer.Meta.fields, "payment_reference", "pay_to"]
        read_only_fields = fields

    def _instructions(self, charge):
        if not hasattr(self, "_cached"):
            self._cached = transfer_instructions(charge)
        return self._cached

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_payment_reference(self, charge) -> str | None:
        """The remittance reference to quote on a bank transfer (null until a payment
        notice was issued, and for other payment methods)."""
        found = self._instructions(charge)
        return found.payment_reference if found else None

    @extend_schema_field(PayToSerializer(allow_null=True))
    def get_pay_to(self, charge):
        found = self._instructions(charge)
        if found is None or found.account is None:
            return None
        return PayToSerializer(found.account).data


class StatementUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    account = serializers.CharField(help_text=_("Receiving account id or code."))
    format = serializers.ChoiceField(choices=["auto", *FORMATS], default="auto", required=False)

    def validate_account(self, value: str) -> BankAccount:
        lookup = {"pk": int(value)} if value.isdigit() else {"code": value}
        try:
            return BankAccount.objects.get(**lookup)
        except BankAccount.DoesNotExist as error:
            raise serializers.ValidationError(
                _("No receiving account has this id or code.")
            ) from error


class ImportSummarySerializer(serializers.Serializer):
    statement = serializers.IntegerField()
    account = serializers.CharField()
    format = serializers.CharField()
    lines_read = serializers.IntegerField()
    lines_new = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    settled = serializers.IntegerField()
    suggested = serializers.IntegerField()
    unmatched = serializers.IntegerField()
    already_imported = serializers.BooleanField()


class StatementSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.code", read_only=True)

    class Meta:
        model = Statement
        fields = [
            "id",
            "account",
            "format",
            "filename",
            "digest",
            "mapping",
            "statement_ids",
            "period_start",
            "period_end",
            "opening_balance",
            "closing_balance",
            "lines_read",
            "lines_new",
            "lines_duplicate",
            "summary",
            "created_at",
        ]
        read_only_fields = fields


class MatchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Match
        fields = [
            "id",
            "line",
            "charge",
            "attempt",
            "refund",
            "method",
            "status",
            "effect",
            "score",
            "reasons",
            "decided_at",
        ]
        read_only_fields = fields


class StatementLineSerializer(serializers.ModelSerializer):
    amount = AmountField()
    currency = serializers.CharField(source="amount_currency", read_only=True)
    matched_charge = serializers.SerializerMethodField()
    suggestions = serializers.SerializerMethodField()

    class Meta:
        model = StatementLine
        fields = [
            "id",
            "statement",
            "line_no",
            "booked_on",
            "value_on",
            "amount",
            "currency",
            "fee",
            "kind",
            "reference",
            "narrative",
            "counterparty_name",
            "counterparty_account",
            "end_to_end_id",
            "out_trade_no",
            "gateway_trade_no",
            "status",
            "matched_charge",
            "suggestions",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_matched_charge(self, line) -> int | None:
        for match in line.live_matches:
            if match.status == MatchStatus.CONFIRMED:
                return match.charge_id
        return None

    @extend_schema_field(MatchSerializer(many=True))
    def get_suggestions(self, line):
        return MatchSerializer(
            [m for m in line.live_matches if m.status == MatchStatus.SUGGESTED], many=True
        ).data


class DiscrepancySerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.code", read_only=True)
    amount = AmountField(allow_null=True)
    currency = serializers.CharField(source="amount_currency", read_only=True, allow_null=True)

    class Meta:
        model = Discrepancy
        fields = [
            "id",
            "kind",
            "status",
            "account",
            "line",
            "charge",
            "amount",
            "currency",
            "message",
            "resolution",
            "resolved_by",
            "resolved_at",
            "write_off",
            "refund",
            "created_at",
        ]
        read_only_fields = fields


class ReconciliationRunSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.code", read_only=True)

    class Meta:
        model = ReconciliationRun
        fields = [
            "id",
            "account",
            "period_start",
            "period_end",
            "status",
            "currency",
            "opening_balance",
            "closing_balance",
            "statement_total",
            "ledger_total",
            "difference",
            "lines",
            "open_discrepancies",
            "prepared_by",
            "prepared_at",
            "signed_off_by",
            "signed_off_at",
            "reopened_by",
            "reopen_reason",
        ]
        read_only_fields = fields


class ReconciliationRunPrepareSerializer(serializers.Serializer):
    account = serializers.CharField(help_text=_("Receiving account id or code."))
    period_start = serializers.DateField()
    period_end = serializers.DateField()

    validate_account = StatementUploadSerializer.validate_account


class ReconciliationRunReopenSerializer(serializers.Serializer):
    reason = serializers.CharField()


class DiscrepancyResolveSerializer(serializers.Serializer):
    OUTCOMES = (
        "resolved",
        "waived",
        "not_ours",
        "assign",
        "refund",
        "write_off",
        "approve_write_off",
    )

    outcome = serializers.ChoiceField(
        choices=OUTCOMES,
        help_text=_(
            "resolved: dealt with (say how); waived: accepted as it is; not_ours: the line "
            "is not a customer payment; assign: the unmatched line pays `charge`; "
            "refund: give back the excess of an overpayment or a second payment from the "
            "prepaid balance (a refund is requested; see the discrepancy's `refund`); "
            "write_off: ask to write off the small rest a partial payment left; "
            "approve_write_off: someone else approves that write-off."
        ),
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")
    charge = serializers.IntegerField(required=False)

    def validate(self, data):
        if data["outcome"] == "assign" and not data.get("charge"):
            raise serializers.ValidationError({"charge": [_("Name the charge the line pays.")]})
        return data
