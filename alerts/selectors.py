"""Reads of alerts."""

from django.db.models import QuerySet

from .models import Alert


def alert_list() -> QuerySet[Alert]:
    """Alerts with what their list shows, in one query."""
    return Alert.objects.select_related("owner")
