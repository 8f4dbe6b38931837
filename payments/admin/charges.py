"""Collection's additions to the charge and customer admins: actions, attempts,
ledger balances."""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display
from unfold.views import ChangeList

from billing.admin import ChargeAdmin
from billing.models import Charge
from contracts.admin import CustomerAdmin
from contracts.models import Customer
from feemgmt.core.money import money_str
from ledger.choices import AccountPurpose
from ledger.models import Account
from ledger.selectors import balances_for_customer, receivable_by_customer

from ..services.collection import COLLECTABLE, outstanding
from ..services.staff import (
    charge_cancel,
    charge_retry_now,
    write_off_request,
)
from ..tasks import collect_charge_task
from .attempts import AttemptInline
from .common import (
    apply_each,
    text_action,
)

# --- Charges: collection actions ----------------------------------------------------


class CollectionChargeAdmin(ChargeAdmin):
    """The charge admin with its attempts and what staff do when collection is stuck."""

    inlines = (AttemptInline,)
    list_display = (*ChargeAdmin.list_display, "next_attempt_on")
    readonly_fields = ("outstanding_amount",)
    actions = ("retry_now", "cancel_charges", "request_write_off")

    @display(description=_("outstanding"))
    def outstanding_amount(self, obj: Charge):
        if obj.status not in COLLECTABLE:
            return "—"
        return money_str(outstanding(obj))

    def has_collect_permission(self, request):
        return request.user.has_perm("billing.change_charge")

    def has_write_off_permission(self, request):
        return request.user.has_perm("payments.add_writeoffrequest")

    @admin.action(description=_("Retry now"), permissions=["collect"])
    def retry_now(self, request, queryset):
        def retry(charge):
            charge = charge_retry_now(charge=charge)
            pk = charge.pk
            transaction.on_commit(lambda: collect_charge_task.delay(pk, True))

        apply_each(
            self,
            request,
            queryset.order_by("id"),
            retry,
            lambda n: ngettext(
                "%(count)d charge handed over for collection now.",
                "%(count)d charges handed over for collection now.",
                n,
            ),
        )

    @admin.action(description=_("Cancel selected charges"), permissions=["collect"])
    def cancel_charges(self, request, queryset):
        apply_each(
            self,
            request,
            queryset.order_by("id"),
            lambda charge: charge_cancel(charge=charge),
            lambda n: ngettext("%(count)d charge cancelled.", "%(count)d charges cancelled.", n),
        )

    @admin.action(description=_("Request write-off"), permissions=["write_off"])
    def request_write_off(self, request, queryset):
        return text_action(
            self,
            request,
            queryset.select_related("contract__customer").order_by("id"),
            action_name="request_write_off",
            title=_("Request write-off"),
            label=_("reason"),
            help_text=_("Another user with the approval permission decides."),
            apply=lambda charge, reason: write_off_request(
                charge=charge, requested_by=request.user, reason=reason
            ),
            done_message=lambda n: ngettext(
                "%(count)d write-off requested.", "%(count)d write-offs requested.", n
            ),
        )


admin.site.unregister(Charge)
admin.site.register(Charge, CollectionChargeAdmin)


# --- Customers: ledger balances -----------------------------------------------------


LEDGER_COLUMNS = (AccountPurpose.RECEIVABLE, AccountPurpose.PREPAID, AccountPurpose.DEPOSIT_HELD)


def ledger_headers() -> list[str]:
    """Column titles of the balances table, in the viewer's language."""
    return [gettext("Currency"), *(str(AccountPurpose(p).label) for p in LEDGER_COLUMNS)]


class CustomerBalanceChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        customers = list(self.result_list)
        due = receivable_by_customer([customer.pk for customer in customers])
        for customer in customers:
            customer._balance_due = due.get(customer.pk, [])


class CollectionCustomerAdmin(CustomerAdmin):
    """The customer admin with the customer's ledger balances."""

    list_display = (*CustomerAdmin.list_display, "balance_due")
    readonly_fields = ("ledger_balances",)

    def get_changelist(self, request, **kwargs):
        return CustomerBalanceChangeList

    def get_fields(self, request, obj=None):
        fields = tuple(super().get_fields(request, obj))
        if obj is None:
            return tuple(f for f in fields if f != "ledger_balances")
        return fields if "ledger_balances" in fields else (*fields, "ledger_balances")

    @display(description=_("balance due"))
    def balance_due(self, obj: Customer):
        amounts = getattr(obj, "_balance_due", None)
        if amounts is None:  # not from the list page
            amounts = receivable_by_customer([obj.pk]).get(obj.pk, [])
        return ", ".join(money_str(amount) for amount in amounts) or "—"

    @display(description=_("ledger balances"))
    def ledger_balances(self, obj: Customer):
        if obj.pk is None:
            return "—"
        currencies = set(
            Account.objects.filter(customer_id=obj.pk).values_list("currency", flat=True)
        )
        currencies.add(obj.currency)
        rows = []
        for currency in sorted(currencies):
            balances = balances_for_customer(customer_id=obj.pk, currency=currency)
            rows.append((currency, *(money_str(balances[p]) for p in LEDGER_COLUMNS)))
        header = format_html_join(
            "", '<th class="px-3 py-1 text-left">{}</th>', ((label,) for label in ledger_headers())
        )
        body = format_html_join(
            "",
            '<tr data-currency="{}"><td class="px-3 py-1 font-semibold">{}</td>'
            '<td class="px-3 py-1">{}</td><td class="px-3 py-1">{}</td>'
            '<td class="px-3 py-1">{}</td></tr>',
            ((row[0], *row) for row in rows),
        )
        return format_html(
            '<table class="ledger-balances"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
            header,
            body,
        )


admin.site.unregister(Customer)
admin.site.register(Customer, CollectionCustomerAdmin)
