"""Admin for customers: every write goes through contracts.services."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.widgets import UnfoldAdminSelectWidget

from audit.admin import AuditHistoryMixin
from feemgmt.core.admin_actions import form_action
from feemgmt.core.admin_forms import ServiceFormAdminMixin, ServiceModelForm, ServiceRefused
from feemgmt.core.exceptions import BusinessError

from ..models import Customer
from ..services import customer_create, customer_update

CUSTOMER_FIELDS = ("code", "name", "email", "currency", "credit_code")


class CurrencyChoicesMixin:
    """The currency columns are free text validated against settings.CURRENCIES:
    offer those as a list."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "currency" in self.fields:  # absent when the whole form is read-only
            self.fields["currency"].widget = UnfoldAdminSelectWidget(
                choices=settings.CURRENCY_CHOICES
            )


# --- Customers ---------------------------------------------------------------


class CustomerForm(CurrencyChoicesMixin, ServiceModelForm):
    class Meta:
        model = Customer
        fields = CUSTOMER_FIELDS


class PortalInviteForm(forms.Form):
    email = forms.EmailField(label=_("e-mail"))
    name = forms.CharField(label=_("name"), max_length=150, required=False)


@admin.register(Customer)
class CustomerAdmin(AuditHistoryMixin, ServiceFormAdminMixin, ModelAdmin):
    form = CustomerForm
    actions = ("invite_portal_user",)
    list_display = ("code", "name", "email", "currency", "credit_code", "contract_count")
    list_filter = ("currency",)
    search_fields = ("code", "name", "credit_code", "email")
    fields = (*CUSTOMER_FIELDS, "audit_history")

    def get_fields(self, request, obj=None):
        fields = tuple(super().get_fields(request, obj))
        # a customer being added has no history yet
        return fields if obj is not None else tuple(f for f in fields if f != "audit_history")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_contract_count=Count("contracts"))

    @admin.display(description=_("contracts"), ordering="_contract_count")
    def contract_count(self, obj: Customer) -> int:
        return obj._contract_count

    def has_delete_permission(self, request, obj=None):
        # No service deletes customers; their contracts and charges keep them anyway.
        return False

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in CUSTOMER_FIELDS}
        try:
            saved = customer_update(customer=obj, **values) if change else customer_create(**values)
        except BusinessError as exc:
            raise ServiceRefused(exc) from exc
        self._copy_saved(obj, saved)

    # --- Portal logins -----------------------------------------------------------

    def has_invite_permission(self, request):
        return request.user.has_perm("portal.add_customeruser")

    @admin.action(description=_("Invite a portal user"), permissions=["invite"])
    def invite_portal_user(self, request, queryset):
        """Ask for an e-mail address and a name, then create the customer's portal
        login and e-mail its invitation (docs/portal.md)."""
        # The portal sits above contracts; staff reach its invitations from here.
        from portal.services import portal_user_invite

        if queryset.count() != 1:
            self.message_user(
                request, gettext("Select exactly one customer to invite to."), messages.ERROR
            )
            return None
        customer = queryset.get()

        def invite(form):
            try:
                portal_user_invite(
                    customer=customer,
                    email=form.cleaned_data["email"],
                    name=form.cleaned_data["name"],
                    invited_by=request.user,
                )
            except BusinessError as exc:
                for message in exc.messages():
                    self.message_user(request, message, messages.ERROR)
                return
            self.message_user(
                request,
                gettext("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]},
                messages.SUCCESS,
            )

        return form_action(
            self,
            request,
            queryset,
            action_name="invite_portal_user",
            title=_("Invite a portal user"),
            form=PortalInviteForm,
            apply=invite,
        )
