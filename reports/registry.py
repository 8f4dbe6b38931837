"""The finance reports: what each one is, who may see it and how it is built.

One description serves the API, the exports and the admin pages, so a column
added here shows everywhere with the same label and the same kind of value.
Every ``build`` is a few aggregate queries over the ledger or the domain tables
(``reports/selectors``); figures are defined in ``docs/reports.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext_lazy as _

from . import selectors

__all__ = [
    "REPORTS",
    "Chart",
    "Column",
    "Report",
    "ReportFilters",
    "ReportResult",
    "reports_for",
]

COLUMN_KINDS = frozenset({"text", "money", "count", "percent", "date", "month"})


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str

    def __post_init__(self):
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass(frozen=True)
class ReportFilters:
    date_from: date | None = None
    date_to: date | None = None
    customer_id: int | None = None
    currency: str | None = None


@dataclass(frozen=True)
class Chart:
    kind: str
    label_key: str
    value_keys: tuple[str, ...]
    series_key: str | None = None
    stacked: bool = False


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    permissions: tuple[str, ...]
    build: Callable[[ReportFilters], list[dict]]
    chart: Chart | None = None
    per_currency: bool = True

    def run(self, filters: ReportFilters) -> ReportResult:
        return ReportResult(report=self, filters=filters, rows=self.build(filters))

    def visible_to(self, user) -> bool:
        return bool(user and user.is_active and user.has_perms(self.permissions))


@dataclass(frozen=True)
class ReportResult:
    report: Report
    filters: ReportFilters
    rows: list[dict]


CURRENCY = Column("currency", _("Currency"), "text")
CUSTOMER_CODE = Column("customer_code", _("Customer code"), "text")
CUSTOMER_NAME = Column("customer_name", _("Customer"), "text")
MONTH = Column("month", _("Month"), "month")
METHOD = Column("method", _("Payment method"), "text")

_ALL = (
    Report(
        name="customer-status",
        title=_("Customer payment status"),
        description=_(
            "Per customer and currency: billed and paid in the period, and what is "
            "outstanding, overdue and held for the customer at its end."
        ),
        columns=(
            CURRENCY,
            CUSTOMER_CODE,
            CUSTOMER_NAME,
            Column("billed", _("Billed"), "money"),
            Column("paid", _("Paid"), "money"),
            Column("outstanding", _("Outstanding"), "money"),
            Column("overdue", _("Overdue"), "money"),
            Column("prepaid", _("Prepaid balance"), "money"),
            Column("deposit", _("Deposit held"), "money"),
            Column("last_payment_on", _("Last payment"), "date"),
            Column("charges_due", _("Charges due"), "count"),
            Column("on_time_rate", _("Paid on time"), "percent"),
        ),
        permissions=("billing.view_charge", "ledger.view_account"),
        build=selectors.customer_status,
        chart=None,
    ),
    Report(
        name="aging",
        title=_("Receivables aging"),
        description=_(
            "What customers owe at the end date, by how many days each charge is past due."
        ),
        columns=(
            CURRENCY,
            Column("current", _("Not yet due"), "money"),
            Column("days_1_30", _("1–30 days"), "money"),
            Column("days_31_60", _("31–60 days"), "money"),
            Column("days_61_90", _("61–90 days"), "money"),
            Column("days_over_90", _("Over 90 days"), "money"),
            Column("total", _("Total receivable"), "money"),
        ),
        permissions=("billing.view_charge", "ledger.view_account"),
        build=selectors.aging,
        chart=Chart(
            kind="bar",
            label_key="currency",
            value_keys=("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90"),
            stacked=True,
        ),
    ),
    Report(
        name="collections",
        title=_("Collections"),
        description=_(
            "Money received by payment method and month, on the date it was booked, "
            "net of reversed payments."
        ),
        columns=(
            CURRENCY,
            MONTH,
            METHOD,
            Column("amount", _("Collected"), "money"),
            Column("count", _("Payments"), "count"),
        ),
        permissions=("ledger.view_journalentry", "payments.view_paymentattempt"),
        build=selectors.collections,
        chart=Chart(kind="bar", label_key="month", value_keys=("amount",), series_key="method"),
    ),
    Report(
        name="income",
        title=_("Fee income"),
        description=_(
            "Fee income booked per month and fee kind, net of refunds, cancellations and reversals."
        ),
        columns=(
            CURRENCY,
            MONTH,
            Column("fee_kind", _("Fee kind"), "text"),
            Column("income", _("Fee income"), "money"),
        ),
        permissions=("ledger.view_journalentry",),
        build=selectors.income,
        chart=Chart(
            kind="bar",
            label_key="month",
            value_keys=("income",),
            series_key="fee_kind",
            stacked=True,
        ),
    ),
    Report(
        name="failed-rate",
        title=_("Failed deductions"),
        description=_(
            "Share of decided payment attempts that failed or were returned by the bank, "
            "per payment method and month."
        ),
        columns=(
            CURRENCY,
            MONTH,
            METHOD,
            Column("attempts", _("Attempts"), "count"),
            Column("failed", _("Failed"), "count"),
            Column("rate", _("Failure rate"), "percent"),
        ),
        permissions=("payments.view_paymentattempt",),
        build=selectors.failed_rate,
        chart=Chart(kind="line", label_key="month", value_keys=("rate",), series_key="method"),
    ),
    Report(
        name="balances",
        title=_("Prepaid and deposit balances"),
        description=_(
            "What each customer holds with us at the end date, with the total per currency."
        ),
        columns=(
            CURRENCY,
            CUSTOMER_CODE,
            CUSTOMER_NAME,
            Column("prepaid", _("Prepaid balance"), "money"),
            Column("deposit", _("Deposit held"), "money"),
        ),
        permissions=("ledger.view_account",),
        build=selectors.balances,
    ),
    Report(
        name="reconciliation",
        title=_("Reconciliation status"),
        description=_(
            "Each receiving account's reconciliation runs: statement against books, "
            "what is still open and who signed off."
        ),
        columns=(
            CURRENCY,
            Column("account", _("Receiving account"), "text"),
            Column("period_start", _("From"), "date"),
            Column("period_end", _("To"), "date"),
            Column("statement_total", _("Statement total"), "money"),
            Column("ledger_total", _("Ledger total"), "money"),
            Column("difference", _("Difference"), "money"),
            Column("open_discrepancies", _("Open discrepancies"), "count"),
            Column("status", _("Status"), "text"),
            Column("prepared_by", _("Prepared by"), "text"),
            Column("signed_off_by", _("Signed off by"), "text"),
            Column("signed_off_at", _("Signed off at"), "date"),
        ),
        permissions=("reconciliation.view_reconciliationrun",),
        build=selectors.reconciliation,
    ),
)

REPORTS: dict[str, Report] = {report.name: report for report in _ALL}


def reports_for(user) -> list[Report]:
    """The reports this user may open, in display order."""
    return [report for report in REPORTS.values() if report.visible_to(user)]
