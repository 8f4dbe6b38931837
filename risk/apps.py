from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskConfig(AppConfig):
    """Risk warnings (风险预警): rules with editable thresholds that look across
    charges, payments, mandates and reconciliation and raise alerts. It sits above
    every domain app because its rules read all of them."""

    name = "risk"
    verbose_name = _("Risk warnings")

    def ready(self):
        from . import receivers  # noqa: F401
