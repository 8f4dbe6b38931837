"""The audit trail in the admin: read-only for everyone, superusers included.

Nothing here can add, change or delete an event (the database would refuse
anyway). Other admins link to an object's history with :class:`AuditHistoryMixin`.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from .models import AuditEvent
from .selectors import events_about
from .verification import audit_chain_verify

VERIFY_PERMISSION = "audit.verify_auditevent"


class AboutFilter(admin.SimpleListFilter):
    """``?about=<app.model>:<id>``: the events about one object, its own and the
    bulk events naming it (the link of every object page). Offers no choices of its
    own, so it shows only as the active filter."""

    title = _("about")
    parameter_name = "about"

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, value)] if value else []

    def queryset(self, request, queryset):
        value = self.value()
        if not value or ":" not in value:
            return queryset
        object_type, object_id = value.rsplit(":", 1)
        return queryset.filter(sequence__in=events_about(object_type, object_id).values("sequence"))


@admin.register(AuditEvent)
class AuditEventAdmin(ModelAdmin):
    list_display = ("sequence", "occurred_at", "actor", "action", "object_type", "object_id")
    list_filter = (AboutFilter, "action", "object_type", "actor")
    list_filter_submit = True
    search_fields = ("=object_id", "=request_id")
    date_hierarchy = "occurred_at"
    show_full_result_count = False  # a count(*) over millions of events per page view
    fields = (
        "sequence",
        "occurred_at",
        "actor",
        "actor_user_id",
        "action",
        "object_type",
        "object_id",
        "changes_display",
        "bulk_display",
        "request_id",
        "ip",
        "prev_hash",
        "hash",
    )
    readonly_fields = fields

    @display(description=_("changes"))
    def changes_display(self, obj: AuditEvent):
        return _pretty(obj.changes)

    @display(description=_("bulk rows"))
    def bulk_display(self, obj: AuditEvent):
        if obj.bulk is None:
            return "-"
        bulk = dict(obj.bulk)
        bulk.pop("row_digests", None)
        ids = bulk.get("ids", [])
        if len(ids) > 50:
            bulk["ids"] = [*ids[:50], f"… ({len(ids)})"]
        return _pretty(bulk)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_verify_permission(self, request):
        return request.user.has_perm(VERIFY_PERMISSION)

    actions_list = ("verify_chain",)

    @action(description=_("Verify the chain now"), url_path="verify", permissions=["verify"])
    def verify_chain(self, request):
        """Recompute every event's hash and check the ledger balances, as the daily
        job does; the result is shown, and nothing is written."""
        if not self.has_verify_permission(request):
            raise PermissionDenied
        result = audit_chain_verify()
        self.message_user(
            request,
            result.summary(),
            messages.SUCCESS if result.ok else messages.ERROR,
        )
        return HttpResponseRedirect(reverse("admin:audit_auditevent_changelist"))


def _pretty(value):
    text = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
    return format_html('<pre class="whitespace-pre-wrap">{}</pre>', text)


def history_url(obj) -> str:
    query = urlencode({"about": f"{obj._meta.label_lower}:{obj.pk}"})
    return f"{reverse('admin:audit_auditevent_changelist')}?{query}"


class AuditHistoryMixin:
    """Adds an "audit history" link to a ModelAdmin's change page, to the audit
    events about the object. Put the mixin before ModelAdmin; when the admin lists
    ``fields`` or ``fieldsets`` itself, add ``"audit_history"`` to them."""

    @display(description=_("audit history"))
    def audit_history(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        return format_html('<a href="{}">{}</a>', history_url(obj), _("Show history"))

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if "audit_history" in fields else (*fields, "audit_history")
