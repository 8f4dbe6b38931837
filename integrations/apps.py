from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """How integrators reach the API: API keys, customer scoping and idempotent
    POSTs (docs/api.md)."""

    name = "integrations"
    verbose_name = _("Integrations")
