"""Shape of charges in the API: read-only, since only the billing run creates them."""

from rest_framework import serializers

from billing.models import Charge
from contracts.api.serializers import AmountField


class ChargeSerializer(serializers.ModelSerializer):
    """``period_start``/``period_end`` are null for one-off fees; ``period_end`` is
    the last day of the period, inclusive."""

    amount = AmountField()
    currency = serializers.CharField(source="amount_currency", read_only=True)
    contract_number = serializers.CharField(source="contract.number", read_only=True)
    customer = serializers.IntegerField(source="contract.customer_id", read_only=True)

    class Meta:
        model = Charge
        fields = [
            "id",
            "contract",
            "fee",
            "kind",
            "period_start",
            "period_end",
            "due_date",
            "amount",
            "currency",
            "status",
            "prorated",
            "contract_number",
            "customer",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
