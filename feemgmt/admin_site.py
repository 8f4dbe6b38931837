"""Look of the admin (django-unfold): titles, navigation, colours.

Imported by settings, so it imports no app: links are lazy, and permission
callbacks are given as import paths resolved per request.
"""

from django.urls import NoReverseMatch, reverse, reverse_lazy
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

# The admin pages of the reports (reports/registry.py), in the sidebar's order.
REPORT_LINKS = (
    ("customer-status", "person_search"),
    ("aging", "hourglass_bottom"),
    ("collections", "savings"),
    ("income", "trending_up"),
    ("failed-rate", "error"),
    ("balances", "account_balance_wallet"),
    ("reconciliation", "fact_check"),
)


def charges_active(request) -> bool:
    """The run-billing page lives under the charges' URLs; light only its own link."""
    path = request.path
    return path.startswith(reverse("admin:billing_charge_changelist")) and path != reverse(
        "admin:billing_run"
    )


def statements_active(request) -> bool:
    """The import page lives under the statements' URLs; light only its own link."""
    path = request.path
    return path.startswith(
        reverse("admin:reconciliation_statement_changelist")
    ) and path != reverse("admin:reconciliation_statement_import")


def risk_rules_link(request) -> str:
    """The risk rules' list, or nothing while the risk app has no admin for them
    (a missing URL would otherwise break every admin page's sidebar)."""
    try:
        return reverse("admin:risk_riskrule_changelist")
    except NoReverseMatch:
        return ""


def risk_rules_visible(request) -> bool:
    return bool(risk_rules_link(request)) and request.user.has_perm("risk.view_riskrule")


def risk_rules_active(request) -> bool:
    link = risk_rules_link(request)
    return bool(link) and request.path.startswith(link)


def _report_title(name: str) -> str:
    from reports.registry import REPORTS

    report = REPORTS.get(name)
    return str(report.title) if report else name


report_title = lazy(_report_title, str)


def report_permission(name: str):
    """A sidebar permission callback: the link shows when the user may see the
    report (its own ``visible_to``; the registry is imported per request)."""

    def visible(request) -> bool:
        from reports.registry import REPORTS

        report = REPORTS.get(name)
        return bool(report and report.visible_to(request.user))

    return visible


UNFOLD = {
    "DASHBOARD_CALLBACK": "reports.admin_views.dashboard_callback",
    "SITE_TITLE": _("Fee management"),
    "SITE_HEADER": _("Client management fees"),
    "SITE_SYMBOL": "account_balance",
    "SHOW_HISTORY": True,
    "SHOW_LANGUAGES": True,
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        "navigation": [
            {
                "title": _("Contracts"),
                "items": [
                    {
                        "title": _("Customers"),
                        "icon": "groups",
                        "link": reverse_lazy("admin:contracts_customer_changelist"),
                    },
                    {
                        "title": _("Contracts"),
                        "icon": "contract",
                        "link": reverse_lazy("admin:contracts_contract_changelist"),
                    },
                ],
            },
            {
                "title": _("Billing"),
                "items": [
                    {
                        "title": _("Charges"),
                        "icon": "receipt_long",
                        "link": reverse_lazy("admin:billing_charge_changelist"),
                        "active": "feemgmt.admin_site.charges_active",
                    },
                    {
                        "title": _("Run billing for a date"),
                        "icon": "play_circle",
                        "link": reverse_lazy("admin:billing_run"),
                        "permission": "billing.admin.can_run_billing",
                    },
                ],
            },
            {
                "title": _("Collection"),
                "items": [
                    {
                        "title": _("Payment attempts"),
                        "icon": "payments",
                        "link": reverse_lazy("admin:payments_paymentattempt_changelist"),
                    },
                    {
                        "title": _("Refunds"),
                        "icon": "undo",
                        "link": reverse_lazy("admin:payments_refund_changelist"),
                    },
                    {
                        "title": _("Write-off requests"),
                        "icon": "approval",
                        "link": reverse_lazy("admin:payments_writeoffrequest_changelist"),
                    },
                    {
                        "title": _("Mandates"),
                        "icon": "account_balance_wallet",
                        "link": reverse_lazy("admin:payments_mandate_changelist"),
                    },
                    {
                        "title": _("Direct debit batches"),
                        "icon": "description",
                        "link": reverse_lazy("admin:payments_directdebitbatch_changelist"),
                    },
                    {
                        "title": _("Gateway notifications"),
                        "icon": "inbox",
                        "link": reverse_lazy("admin:payments_inboundnotification_changelist"),
                    },
                    {
                        "title": _("Customer notices"),
                        "icon": "mail",
                        "link": reverse_lazy("admin:payments_sentnotice_changelist"),
                    },
                ],
            },
            {
                "title": _("Risk warnings"),
                "items": [
                    {
                        "title": _("Alerts"),
                        "icon": "notifications",
                        "link": reverse_lazy("admin:alerts_alert_changelist"),
                    },
                    {
                        "title": _("Risk rules"),
                        "icon": "rule",
                        "link": risk_rules_link,
                        "permission": "feemgmt.admin_site.risk_rules_visible",
                        "active": "feemgmt.admin_site.risk_rules_active",
                    },
                ],
            },
            {
                "title": _("Reconciliation"),
                "items": [
                    {
                        "title": _("Receiving accounts"),
                        "icon": "account_balance",
                        "link": reverse_lazy("admin:reconciliation_bankaccount_changelist"),
                    },
                    {
                        "title": _("Import a statement"),
                        "icon": "upload_file",
                        "link": reverse_lazy("admin:reconciliation_statement_import"),
                        "permission": "reconciliation.admin.can_import_statements",
                    },
                    {
                        "title": _("Statements"),
                        "icon": "request_quote",
                        "link": reverse_lazy("admin:reconciliation_statement_changelist"),
                        "active": "feemgmt.admin_site.statements_active",
                    },
                    {
                        "title": _("Statement lines"),
                        "icon": "list_alt",
                        "link": reverse_lazy("admin:reconciliation_statementline_changelist"),
                    },
                    {
                        "title": _("Matches"),
                        "icon": "join_inner",
                        "link": reverse_lazy("admin:reconciliation_match_changelist"),
                    },
                    {
                        "title": _("Discrepancies"),
                        "icon": "report",
                        "link": reverse_lazy("admin:reconciliation_discrepancy_changelist"),
                    },
                ],
            },
            {
                "title": _("Reports"),
                "items": [
                    {
                        "title": report_title(name),
                        "icon": icon,
                        "link": reverse_lazy("admin_reports:report", args=[name]),
                        "permission": report_permission(name),
                    }
                    for name, icon in REPORT_LINKS
                ],
            },
            {
                "title": _("Scheduling"),
                "items": [
                    {
                        "title": _("Scheduled tasks"),
                        "icon": "schedule",
                        "link": reverse_lazy("admin:django_celery_beat_periodictask_changelist"),
                    },
                    {
                        "title": _("Crontab schedules"),
                        "icon": "event_repeat",
                        "link": reverse_lazy("admin:django_celery_beat_crontabschedule_changelist"),
                    },
                    {
                        "title": _("Interval schedules"),
                        "icon": "timer",
                        "link": reverse_lazy(
                            "admin:django_celery_beat_intervalschedule_changelist"
                        ),
                    },
                ],
            },
            {
                "title": _("Users and access"),
                "items": [
                    {
                        "title": _("Users"),
                        "icon": "person",
                        "link": reverse_lazy("admin:auth_user_changelist"),
                    },
                    {
                        "title": _("Groups"),
                        "icon": "group",
                        "link": reverse_lazy("admin:auth_group_changelist"),
                    },
                ],
            },
        ],
    },
}
