from rest_framework import serializers

from ..models import RiskRule
from ..rules import RULES


class RiskRuleSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="get_code_display", read_only=True)
    description = serializers.SerializerMethodField()
    thresholds = serializers.SerializerMethodField()
    updated_by = serializers.CharField(
        source="updated_by.username", read_only=True, allow_null=True
    )

    class Meta:
        model = RiskRule
        fields = [
            "code",
            "title",
            "description",
            "enabled",
            "severity",
            "thresholds",
            "count",
            "days",
            "percent",
            "updated_at",
            "updated_by",
        ]
        read_only_fields = ["code", "title", "description", "thresholds", "updated_at"]

    def get_description(self, obj) -> str:
        return str(RULES[obj.code].description)

    def get_thresholds(self, obj) -> list[str]:
        """The thresholds this rule reads (of count, days, percent)."""
        return list(RULES[obj.code].thresholds)
