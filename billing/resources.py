"""The charges list's export columns (docs/exports.md)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from feemgmt.core.admin_export import ExportResource, column, label_column, money_columns

from .models import Charge


class ChargeResource(ExportResource):
    display_name = _("charges")
    select_related = ("contract__customer",)

    id = column(Charge, "id")
    contract = column(Charge, "contract__number")
    customer_code = column(Charge, "contract__customer__code")
    customer = column(Charge, "contract__customer__name", label=_("customer"))
    kind = label_column(Charge, "kind")
    period_start = column(Charge, "period_start")
    period_end = column(Charge, "period_end")
    due_date = column(Charge, "due_date")
    amount, currency = money_columns(Charge, "amount")
    status = label_column(Charge, "status")
    prorated = column(Charge, "prorated")
    next_attempt_on = column(Charge, "next_attempt_on")
    created_at = column(Charge, "created_at")
