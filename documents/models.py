"""No tables of their own: documents are rendered from the books each time. The
two proxies give staff their admin pages — the paid charges with their receipts,
and the customers with their statements of account."""

from django.utils.translation import gettext_lazy as _

from billing.models import Charge
from contracts.models import Customer


class ReceiptCharge(Charge):
    class Meta:
        proxy = True
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        default_permissions = ()


class StatementCustomer(Customer):
    class Meta:
        proxy = True
        verbose_name = _("statement of account")
        verbose_name_plural = _("statements of account")
        default_permissions = ()
