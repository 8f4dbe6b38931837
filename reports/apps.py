from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """The finance workspace's reports and dashboard: aggregate reads over the
    ledger, charges, attempts and reconciliation. No models of its own; an app
    because it is the one place those reads, their exports and pages live."""

    name = "reports"
    verbose_name = _("Reports")
