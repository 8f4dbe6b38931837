from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = _("Ledger")

    def ready(self):
        # Every audit verification also checks that each journal entry balances.
        from audit.verification import register_check

        from .audit_checks import CHECK_NAME, journal_entries_balance

        register_check(CHECK_NAME, journal_entries_balance)
