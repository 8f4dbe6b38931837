from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self):
        from django.core import checks

        from payments.adapters.checks import check_payment_adapters

        checks.register(check_payment_adapters, "payments")

        from payments import receivers  # noqa: F401  (connects the signal receivers)
