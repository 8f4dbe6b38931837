from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..choices import EventType
from ..models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from ..services.endpoints import URL_INVALID, URL_PATTERN


class WebhookEndpointSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.ChoiceField(EventType.choices))
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "active",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    """Answered once: on creation and on a rotation of the secret."""

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


@extend_schema_field(
    {"type": "string", "format": "uri", "pattern": URL_PATTERN.pattern, "maxLength": 500}
)
class EndpointURLField(serializers.CharField):
    """An http(s) address, checked by the same pattern the schema shows."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not URL_PATTERN.fullmatch(value):
            raise serializers.ValidationError(URL_INVALID)
        return value


class WebhookEndpointWriteSerializer(serializers.Serializer):
    url = EndpointURLField(max_length=500)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(EventType.choices), allow_empty=False, min_length=1
    )
    active = serializers.BooleanField(required=False)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["attempted_at", "response_code", "duration_ms", "error"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(read_only=True)
    event_type = serializers.ChoiceField(EventType.choices, source="event.type", read_only=True)
    object_type = serializers.CharField(source="event.object_type", read_only=True)
    object_id = serializers.CharField(source="event.object_id", read_only=True)
    occurred_at = serializers.DateTimeField(source="event.occurred_at", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event_id",
            "event_type",
            "object_type",
            "object_id",
            "occurred_at",
            "status",
            "attempts",
            "next_attempt_at",
            "give_up_at",
            "last_response_code",
            "last_error",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields


class WebhookDeliveryDetailSerializer(WebhookDeliverySerializer):
    """A delivery with what it sends and every attempt made."""

    data = serializers.SerializerMethodField()
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta(WebhookDeliverySerializer.Meta):
        fields = [*WebhookDeliverySerializer.Meta.fields, "response_excerpt", "data", "attempt_log"]
        read_only_fields = fields

    @extend_schema_field(
        {"type": "object", "additionalProperties": True, "description": "The event's data."}
    )
    def get_data(self, delivery) -> dict:
        return delivery.event.payload
