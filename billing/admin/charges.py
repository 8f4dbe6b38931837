"""Admin for charges (read-only: only the billing run creates them) and the
"Run billing for a date" page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateFilter

from audit.admin import AuditHistoryMixin
from feemgmt.core.admin_export import ExportAdminMixin
from feemgmt.core.admin_lists import LargeTableAdminMixin

from ..forms import BillingRunForm
from ..models import Charge
from ..resources import ChargeResource
from ..services import BillingRunResult, billing_run

# Running billing creates charges, so it takes the permission to add them.
BILLING_RUN_PERMISSION = "billing.add_charge"


def can_run_billing(request) -> bool:
    """Who may open the billing-run page (also hides its sidebar link from others)."""
    user = request.user
    return bool(user.is_active and user.is_staff and user.has_perm(BILLING_RUN_PERMISSION))


class CurrencyFilter(admin.SimpleListFilter):
    title = _("currency")
    parameter_name = "currency"

    def lookups(self, request, model_admin):
        return [(code, code) for code in settings.CURRENCIES]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(amount_currency=self.value())
        return queryset


@admin.register(Charge)
class ChargeAdmin(ExportAdminMixin, LargeTableAdminMixin, AuditHistoryMixin, ModelAdmin):
    """A million charges list as fast as a hundred: no count of the whole table, the
    date hierarchy by index probes (feemgmt/core/admin_lists.py), and each row's contract
    and customer joined in."""

    list_display = (
        "contract",
        "customer",
        "kind",
        "period_start",
        "period_end",
        "due_date",
        "amount",
        "status",
        "prorated",
    )
    list_filter = (
        "status",
        "kind",
        ("due_date", RangeDateFilter),
        CurrencyFilter,
    )
    list_filter_submit = True
    search_fields = ("contract__number", "contract__customer__code", "contract__customer__name")
    date_hierarchy = "due_date"
    list_select_related = ("contract", "contract__customer")
    resource_classes = (ChargeResource,)

    @admin.display(description=_("customer"), ordering="contract__customer__code")
    def customer(self, obj: Charge):
        return obj.contract.customer

    # Charges are created by the billing run and change through collection, never by hand.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        urls = [
            path(
                "run/",
                self.admin_site.admin_view(self.billing_run_view),
                name="billing_run",
            ),
        ]
        return urls + super().get_urls()

    def billing_run_view(self, request):
        """GET: the form. POST: run billing for the date and show what it did."""
        if not can_run_billing(request):
            raise PermissionDenied
        result = None
        if request.method == "POST":
            form = BillingRunForm(request.POST)
            if form.is_valid():
                result = billing_run(on=form.cleaned_data["on"])
                self.message_user(request, billing_run_summary(result), messages.SUCCESS)
        else:
            form = BillingRunForm()
        title = _("Run billing for a date")
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "content_title": title,  # the page header (no model "opts": not a model page)
            "form": form,
            "media": self.media + form.media,
            "result": result,
            "totals": result.totals() if result else {},
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "billing/run.html", context)


def billing_run_summary(result: BillingRunResult) -> str:
    created = ngettext(
        "%(count)d charge created", "%(count)d charges created", result.charges_created
    ) % {"count": result.charges_created}
    totals = ", ".join(f"{money.amount} {code}" for code, money in result.totals().items())
    return gettext(
        "Billing run for %(date)s: %(created)s (%(totals)s); fees due: %(fees)d, "
        "contracts: %(contracts)d; time: %(seconds).1f s."
    ) % {
        "date": result.on.isoformat(),
        "created": created,
        "totals": totals or "0",
        "fees": result.fees_seen,
        "contracts": result.contracts_seen,
        "seconds": result.seconds,
    }
