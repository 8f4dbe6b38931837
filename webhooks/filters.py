"""Filters of the deliveries list (API and admin sort by the same things)."""

from django_filters import rest_framework as filters

from feemgmt.api.filtering import IntegerFilter

from .choices import DeliveryStatus, EventType
from .models import WebhookDelivery


class DeliveryFilter(filters.FilterSet):
    # an id, not a choice among existing endpoints: an unknown one lists nothing
    endpoint = IntegerFilter(field_name="endpoint_id")
    status = filters.ChoiceFilter(choices=DeliveryStatus.choices)
    event_type = filters.ChoiceFilter(field_name="event__type", choices=EventType.choices)
    response_code = IntegerFilter(field_name="last_response_code")
    object_id = filters.CharFilter(field_name="event__object_id")

    class Meta:
        model = WebhookDelivery
        fields = ["endpoint", "status", "event_type", "response_code", "object_id"]
