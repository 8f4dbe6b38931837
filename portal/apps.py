from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The customers' self-service pages under /portal/ (docs/portal.md)."""

    name = "portal"
    verbose_name = _("Customer portal")
