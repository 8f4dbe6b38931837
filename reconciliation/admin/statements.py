"""Imported statements and their lines (read-only), and the "Import a statement"
page: a first submit previews what the file holds, a second imports it."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.decorators import display

from audit.admin import AuditHistoryMixin
from feemgmt.core.admin_export import ExportAdminMixin
from feemgmt.core.admin_forms import add_business_error
from feemgmt.core.exceptions import BusinessError
from payments.admin import ReadOnlyAdmin

from ..forms import StatementImportForm
from ..models import Match, Statement, StatementLine
from ..resources import StatementLineResource
from ..services import ImportSummary, statement_import
from .common import (
    LINE_LABELS,
    can_import_statements,
    code_block,
    confirmed_charge,
    live_matches,
    reasons_html,
    suggestions_html,
)

IMPORT_TEMPLATE = "reconciliation/import.html"
STATEMENT_CHANGELIST_TEMPLATE = "reconciliation/statement_change_list.html"
INLINE_LINES_PER_PAGE = 20


class StatementLineInline(TabularInline):
    """A statement's lines on its page, a page of them at a time."""

    model = StatementLine
    fk_name = "statement"
    fields = (
        "line_no",
        "booked_on",
        "amount",
        "kind",
        "reference",
        "counterparty_name",
        "narrative",
        "status",
    )
    readonly_fields = fields
    per_page = INLINE_LINES_PER_PAGE
    show_count = True
    can_delete = False
    extra = 0
    max_num = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_count(self, request, obj):
        return obj.lines_read if obj else 0


@admin.register(Statement)
class StatementAdmin(AuditHistoryMixin, ReadOnlyAdmin):
    change_list_template = STATEMENT_CHANGELIST_TEMPLATE
    list_display = (
        "account",
        "format",
        "filename",
        "period",
        "lines_read",
        "lines_new",
        "lines_duplicate",
        "settled",
        "suggested",
        "unmatched",
        "imported_by",
        "created_at",
    )
    list_filter = ("account", "format")
    list_select_related = ("account", "imported_by")
    search_fields = ("filename", "statement_ids", "digest")
    date_hierarchy = "created_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "account",
                    "format",
                    "mapping",
                    "filename",
                    "digest",
                    "statement_ids",
                    "period_start",
                    "period_end",
                    "opening_balance",
                    "closing_balance",
                    "imported_by",
                    "created_at",
                    "audit_history",
                )
            },
        ),
        (
            _("Result"),
            {
                "fields": (
                    "lines_read",
                    "lines_new",
                    "lines_duplicate",
                    "settled",
                    "suggested",
                    "unmatched",
                    "all_lines",
                    "summary_pretty",
                )
            },
        ),
    )
    readonly_fields = (
        "settled",
        "suggested",
        "unmatched",
        "all_lines",
        "summary_pretty",
        "created_at",
    )
    inlines = (StatementLineInline,)

    @display(description=_("period"), ordering="period_start")
    def period(self, obj: Statement) -> str:
        if not obj.period_start and not obj.period_end:
            return "—"
        return f"{obj.period_start or '…'} – {obj.period_end or '…'}"

    @display(description=_("settled"))
    def settled(self, obj: Statement):
        return (obj.summary or {}).get("settled", "—")

    @display(description=_("suggested"))
    def suggested(self, obj: Statement):
        return (obj.summary or {}).get("suggested", "—")

    @display(description=_("unmatched"))
    def unmatched(self, obj: Statement):
        return (obj.summary or {}).get("unmatched", "—")

    @display(description=_("lines"))
    def all_lines(self, obj: Statement):
        url = reverse("admin:reconciliation_statementline_changelist")
        return format_html(
            '<a class="text-primary-600 dark:text-primary-500 font-medium" '
            'href="{}?statement__id__exact={}">{}</a>',
            url,
            obj.pk,
            gettext("See all the lines of this statement"),
        )

    @display(description=_("result"))
    def summary_pretty(self, obj: Statement):
        return code_block(obj.summary)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import": can_import_statements(request)}
        return super().changelist_view(request, extra_context)

    # --- Import a statement -------------------------------------------------------------

    def get_urls(self):
        urls = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="reconciliation_statement_import",
            ),
        ]
        return urls + super().get_urls()

    def import_view(self, request):
        """GET: the form. POST "preview": what the file holds, nothing written.
        POST "import": statement_import, then what it did."""
        if not can_import_statements(request):
            raise PermissionDenied
        preview = summary = None
        if request.method == "POST":
            form = StatementImportForm(request.POST, request.FILES, session=request.session)
            if form.is_valid():
                upload = form.cleaned_data["upload"]
                if request.POST.get("step") == "import":
                    summary = self._import(request, form)
                else:
                    preview = form.preview()
                    if preview is not None:
                        form.keep(upload)
        else:
            form = StatementImportForm(session=request.session)
        title = _("Import a statement")
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "content_title": title,
            "form": form,
            "preview": preview,
            "summary": summary,
            "statement": Statement.objects.filter(pk=summary.statement).first()
            if summary
            else None,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, IMPORT_TEMPLATE, context)

    def _import(self, request, form: StatementImportForm) -> ImportSummary | None:
        upload = form.cleaned_data["upload"]
        try:
            summary = statement_import(
                account=form.cleaned_data["account"],
                data=upload.data,
                filename=upload.name,
                format=form.cleaned_data["format"],
                user=request.user,
            )
        except BusinessError as error:
            add_business_error(form, error)
            return None
        form.forget()
        self.message_user(
            request,
            import_message(summary),
            messages.WARNING if summary.already_imported else messages.SUCCESS,
        )
        return summary


def import_message(summary: ImportSummary) -> str:
    if summary.already_imported:
        return gettext("This file was already imported into %(account)s; nothing was added.") % {
            "account": summary.account
        }
    read = ngettext("%(count)d line read", "%(count)d lines read", summary.lines_read) % {
        "count": summary.lines_read
    }
    return gettext(
        "%(read)s: %(new)d new, %(duplicates)d duplicates skipped; %(settled)d settled, "
        "%(suggested)d with a suggested match, %(unmatched)d unmatched."
    ) % {
        "read": read,
        "new": summary.lines_new,
        "duplicates": summary.duplicates,
        "settled": summary.settled,
        "suggested": summary.suggested,
        "unmatched": summary.unmatched,
    }


# --- Statement lines -----------------------------------------------------------------------


class LineMatchInline(TabularInline):
    """Every match of a line, rejected ones included: the history of decisions."""

    model = Match
    fk_name = "line"
    fields = (
        "charge",
        "attempt",
        "refund",
        "method",
        "status",
        "effect",
        "score",
        "reasons_list",
        "decided_by",
        "decided_at",
    )
    readonly_fields = fields
    can_delete = False
    extra = 0
    max_num = 0

    @display(description=_("reasons"))
    def reasons_list(self, obj: Match):
        return reasons_html(obj.reasons)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("charge__contract", "attempt", "refund", "decided_by")
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StatementLine)
class StatementLineAdmin(ExportAdminMixin, ReadOnlyAdmin):
    list_display = (
        "statement",
        "line_no",
        "booked_on",
        "amount",
        "kind",
        "status_label",
        "counterparty_name",
        "reference",
        "narrative_short",
        "charge",
        "suggestions",
    )
    list_filter = (
        "status",
        "kind",
        "account",
        ("booked_on", RangeDateFilter),
    )
    list_filter_submit = True
    search_fields = ("reference", "narrative", "counterparty_name", "out_trade_no")
    list_select_related = ("statement__account",)
    resource_classes = (StatementLineResource,)
    date_hierarchy = "booked_on"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "statement",
                    "account",
                    "line_no",
                    "booked_on",
                    "value_on",
                    "amount",
                    "fee",
                    "kind",
                    "status_label",
                    "charge",
                    "suggestions",
                )
            },
        ),
        (
            _("As the bank reported it"),
            {
                "fields": (
                    "reference",
                    "narrative",
                    "counterparty_name",
                    "counterparty_account",
                    "end_to_end_id",
                    "out_trade_no",
                    "gateway_trade_no",
                    "fingerprint",
                    "raw_pretty",
                )
            },
        ),
    )
    readonly_fields = ("status_label", "charge", "suggestions", "raw_pretty")
    inlines = (LineMatchInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(live_matches())

    @display(description=_("status"), ordering="status", label=LINE_LABELS)
    def status_label(self, obj: StatementLine):
        return obj.status, obj.get_status_display()

    @display(description=_("narrative"))
    def narrative_short(self, obj: StatementLine) -> str:
        return Truncator(obj.narrative).chars(60)

    @display(description=_("charge"))
    def charge(self, obj: StatementLine):
        charge = confirmed_charge(obj)
        if charge is None:
            return "—"
        url = reverse("admin:billing_charge_change", args=(charge.pk,))
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, charge)

    @display(description=_("suggestions"))
    def suggestions(self, obj: StatementLine):
        return suggestions_html(obj)

    @display(description=_("as read"))
    def raw_pretty(self, obj: StatementLine):
        return code_block(obj.raw)


__all__ = ["StatementAdmin", "StatementLineAdmin", "import_message"]
