from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
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


class AlertAssignSerializer(serializers.Serializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model()._default_manager.filter(is_active=True, is_staff=True),
        allow_null=True,
        help_text=_("Id of the active staff user who takes the alert over; null for no one."),
    )


class AlertSnoozeSerializer(serializers.Serializer):
    until = serializers.DateField(help_text=_("The day the alert wakes up open (a later day)."))

    def validate_until(self, value):
        if value <= timezone.localdate():
            raise serializers.ValidationError(_("An alert can only be snoozed until a later day."))
        return value
