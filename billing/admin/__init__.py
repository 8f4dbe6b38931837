"""Billing's admin, by sub-domain: charges and the billing-run page (``charges``),
fee amendments (``amendments``)."""

from .amendments import FeeAmendmentAdmin
from .charges import BILLING_RUN_PERMISSION, ChargeAdmin, CurrencyFilter, can_run_billing

__all__ = [
    "BILLING_RUN_PERMISSION",
    "ChargeAdmin",
    "CurrencyFilter",
    "FeeAmendmentAdmin",
    "can_run_billing",
]
