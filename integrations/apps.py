from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    """How integrators reach the API: API keys, customer scoping and idempotent
    POSTs (docs/api.md)."""

    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self):
        from django.contrib import admin
        from rest_framework_api_key.models import APIKey as LibraryAPIKey

        from . import schema  # noqa: F401  (registers the API key's security scheme)

        # the library registers its own key model, which this project does not use
        if admin.site.is_registered(LibraryAPIKey):
            admin.site.unregister(LibraryAPIKey)
