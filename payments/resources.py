"""The payment attempts list's export columns (docs/exports.md)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from feemgmt.core.admin_export import ExportResource, column, label_column, money_columns

from .models import PaymentAttempt


class PaymentAttemptResource(ExportResource):
    display_name = _("payment attempts")
    select_related = ("charge__contract__customer",)

    idempotency_key = column(PaymentAttempt, "idempotency_key")
    charge = column(PaymentAttempt, "charge__id", label=_("charge"))
    contract = column(PaymentAttempt, "charge__contract__number")
    customer_code = column(PaymentAttempt, "charge__contract__customer__code")
    customer = column(PaymentAttempt, "charge__contract__customer__name", label=_("customer"))
    number = column(PaymentAttempt, "number")
    method = column(PaymentAttempt, "method")
    amount, currency = money_columns(PaymentAttempt, "amount")
    status = label_column(PaymentAttempt, "status")
    provider_reference = column(PaymentAttempt, "provider_reference")
    error_code = column(PaymentAttempt, "error_code")
    error_message = column(PaymentAttempt, "error_message")
    created_at = column(PaymentAttempt, "created_at")
    decided_at = column(PaymentAttempt, "decided_at")

    def dehydrate_method(self, attempt: PaymentAttempt) -> str:
        """The method's name as the contract form shows it ("支付宝"), not its key."""
        return str(settings.PAYMENT_METHODS.get(attempt.method, attempt.method))
