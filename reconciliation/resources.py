"""The statement lines list's export columns (docs/exports.md)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from feemgmt.core.admin_export import ExportResource, column, label_column, money_columns

from .models import StatementLine


class StatementLineResource(ExportResource):
    display_name = _("statement lines")
    select_related = ("account", "statement")

    account = column(StatementLine, "account__code", label=_("receiving account"))
    statement = column(StatementLine, "statement__filename", label=_("statement"))
    line_no = column(StatementLine, "line_no")
    booked_on = column(StatementLine, "booked_on")
    value_on = column(StatementLine, "value_on")
    amount, currency = money_columns(StatementLine, "amount")
    # in the line's currency, like its amount
    fee = column(StatementLine, "fee")
    kind = label_column(StatementLine, "kind")
    status = label_column(StatementLine, "status")
    reference = column(StatementLine, "reference")
    counterparty_name = column(StatementLine, "counterparty_name")
    counterparty_account = column(StatementLine, "counterparty_account")
    narrative = column(StatementLine, "narrative")
    end_to_end_id = column(StatementLine, "end_to_end_id")
    out_trade_no = column(StatementLine, "out_trade_no")
    gateway_trade_no = column(StatementLine, "gateway_trade_no")
