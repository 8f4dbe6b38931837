from rest_framework import serializers

from ..models import Alert


class AlertSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True, allow_null=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "severity",
            "status",
            "subject",
            "customer",
            "message",
            "owner",
            "snoozed_until",
            "notified_at",
            "created_at",
            "resolved_at",
        ]
        read_only_fields = fields
