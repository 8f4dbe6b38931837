from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    """Signed event deliveries to the integrators' endpoints (docs/webhooks.md)."""

    name = "webhooks"
    verbose_name = _("Webhooks")
