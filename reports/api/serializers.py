"""The shapes the report endpoints answer with, for the OpenAPI schema."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class ReportSummarySerializer(serializers.Serializer):
    name = serializers.CharField(help_text=_("The report's name in its URL."))
    title = serializers.CharField()
    url = serializers.URLField()


class ReportColumnSerializer(serializers.Serializer):
    key = serializers.CharField(help_text=_("The key of this column in each row."))
    label = serializers.CharField()
    kind = serializers.ChoiceField(
        choices=["text", "money", "count", "percent", "date", "month"],
        help_text=_(
            "money: a string with the currency's minor digits; percent: a share "
            "between 0 and 1; month: YYYY-MM; date: YYYY-MM-DD."
        ),
    )


class ReportFiltersSerializer(serializers.Serializer):
    date_from = serializers.DateField(allow_null=True)
    date_to = serializers.DateField(allow_null=True)
    customer = serializers.IntegerField(allow_null=True)
    currency = serializers.CharField(allow_null=True)


class ReportDataSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    filters = ReportFiltersSerializer()
    columns = ReportColumnSerializer(many=True)
    rows = serializers.ListField(
        child=serializers.DictField(),
        help_text=_("One object per row, keyed by the columns' keys; each carries its currency."),
    )
