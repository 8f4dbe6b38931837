"""API keys in the admin: created with the key shown once, then read-only;
revoked (for good, audited) by an action. Keys are never deleted: the audit trail
names them."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin
from unfold.decorators import display

from audit.admin import AuditHistoryMixin
from feemgmt.core.exceptions import BusinessError

from .models import APIKey
from .services import api_key_check_terms, api_key_create, api_key_revoke


class APIKeyForm(forms.ModelForm):
    class Meta:
        model = APIKey
        fields = ("name", "user", "customer", "expiry_date")

    def clean(self):
        data = super().clean()
        try:
            api_key_check_terms(
                name=data.get("name") or "",
                user=data.get("user"),
                expiry_date=data.get("expiry_date"),
            )
        except BusinessError as error:
            for field, field_messages in error.detail.items():
                for message in field_messages:
                    self.add_error(field, message)
        return data


@admin.register(APIKey)
class APIKeyAdmin(AuditHistoryMixin, ModelAdmin):
    form = APIKeyForm
    list_display = (
        "name",
        "prefix",
        "user",
        "customer",
        "usable",
        "created",
        "expiry_date",
        "last_used_at",
    )
    list_filter = ("revoked", "customer")
    search_fields = ("name", "prefix", "user__username", "customer__code", "customer__name")
    list_select_related = ("user", "customer")
    # searched, not listed: there are many customers
    autocomplete_fields = ("user", "customer")
    actions = ["revoke_keys"]
    readonly_fields = ("prefix", "created", "last_used_at", "revoked", "revoked_at", "revoked_by")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "user", "customer", "expiry_date")
        return (
            "name",
            "prefix",
            "user",
            "customer",
            "expiry_date",
            "created",
            "created_by",
            "last_used_at",
            "revoked",
            "revoked_at",
            "revoked_by",
            "audit_history",
        )

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is None:
            return fields
        return tuple(dict.fromkeys((*self.get_fields(request, obj), *fields)))

    @display(description=_("audit history"))
    def audit_history(self, obj):
        """The key's events, which name it by its prefix (integrations/services.py)."""
        if obj is None or obj.pk is None:
            return "-"
        query = urlencode({"about": f"{obj._meta.label_lower}:{obj.prefix}"})
        url = f"{reverse('admin:audit_auditevent_changelist')}?{query}"
        return format_html('<a href="{}">{}</a>', url, _("Show history"))

    @display(description=_("usable"), boolean=True)
    def usable(self, obj: APIKey) -> bool:
        return not obj.revoked and not obj.has_expired

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return  # every field of a saved key is read-only
        key, secret = api_key_create(
            name=obj.name,
            user=obj.user,
            customer=obj.customer,
            expiry_date=obj.expiry_date,
            by=request.user,
        )
        obj.pk, obj.prefix, obj.hashed_key = key.pk, key.prefix, key.hashed_key
        obj.created, obj._state.adding, obj._state.db = key.created, False, key._state.db
        self.message_user(
            request,
            _(
                "The API key for %(name)s is: %(key)s — copy it now: it is shown only "
                "this once and cannot be recovered."
            )
            % {"name": key.name, "key": secret},
            messages.WARNING,
        )

    @admin.action(description=_("Revoke selected API keys"), permissions=["change"])
    def revoke_keys(self, request, queryset):
        count = 0
        for key in queryset.filter(revoked=False):
            api_key_revoke(key=key, by=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d API key revoked.", "%(count)d API keys revoked.", count)
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )
