"""What the collection admin pages share: status colours, the read-only base, and
actions that ask for one text and call a service on each selected row."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.utils.html import format_html
from django.utils.translation import gettext
from unfold.admin import ModelAdmin
from unfold.widgets import UnfoldAdminTextInputWidget

from feemgmt.core.admin_actions import form_action
from feemgmt.core.exceptions import BusinessError

from ..adapters.base import redact, thaw
from ..choices import ApprovalStatus, AttemptStatus, MandateStatus, RefundStatus

REFUND_TEMPLATE = "admin/payments/paymentattempt/refund.html"

# unfold label colours per status value.
ATTEMPT_LABELS = {
    AttemptStatus.PENDING: "info",
    AttemptStatus.UNKNOWN: "warning",
    AttemptStatus.SUCCEEDED: "success",
    AttemptStatus.FAILED: "danger",
    AttemptStatus.RETURNED: "danger",
}
REFUND_LABELS = {
    RefundStatus.PENDING: "info",
    RefundStatus.SUCCEEDED: "success",
    RefundStatus.FAILED: "danger",
    RefundStatus.MANUAL: "warning",
}
APPROVAL_LABELS = {
    ApprovalStatus.REQUESTED: "warning",
    ApprovalStatus.APPROVED: "success",
    ApprovalStatus.REJECTED: "danger",
}
MANDATE_LABELS = {
    MandateStatus.ACTIVE: "success",
    MandateStatus.REVOKED: "danger",
    MandateStatus.EXPIRED: "warning",
}


class ReadOnlyAdmin(ModelAdmin):
    """Rows written by the services only: listed and shown, never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def pretty_json(value) -> str:
    """A stored gateway exchange, redacted again (it is stored redacted; this keeps
    secrets out of the page even for rows written before a key joined the list)."""
    if not value:
        return "—"
    data = thaw(redact(value)) if isinstance(value, dict) else value
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return format_html('<pre class="text-xs whitespace-pre-wrap break-all">{}</pre>', text)


def service_error_text(exc: BusinessError) -> str:
    return " ".join(exc.messages()) or str(exc)


def apply_each(model_admin, request, objects, apply, done_message) -> int:
    """Call a service on each object (each in its own transaction, in the service)
    and report each refusal, then the number done."""
    done = 0
    for obj in objects:
        try:
            apply(obj)
        except BusinessError as exc:
            model_admin.message_user(
                request,
                gettext("%(object)s: %(reason)s")
                % {"object": obj, "reason": service_error_text(exc)},
                messages.ERROR,
            )
        else:
            done += 1
    if done:
        model_admin.message_user(request, done_message(done) % {"count": done}, messages.SUCCESS)
    return done


class ActionTextForm(forms.Form):
    """The one text an action asks for (a reason, a decision note)."""

    text = forms.CharField(max_length=200, widget=UnfoldAdminTextInputWidget)

    def __init__(self, *args, label, required=True, help_text="", **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["text"]
        field.label, field.required, field.help_text = label, required, help_text


def text_action(
    model_admin,
    request,
    queryset,
    *,
    action_name,
    title,
    label,
    apply,
    done_message,
    required=True,
    help_text="",
):
    """Ask for one text on an intermediate page, then call the service on each
    selected object with it. Returns None (back to the list) once applied."""

    def text_form(*args):
        form = ActionTextForm(*args, label=label, required=required)
        form.fields["text"].help_text = help_text
        return form

    def apply_text(form):
        text = form.cleaned_data["text"]
        apply_each(model_admin, request, queryset, lambda obj: apply(obj, text), done_message)

    return form_action(
        model_admin,
        request,
        queryset,
        action_name=action_name,
        title=title,
        form=text_form,
        apply=apply_text,
    )
