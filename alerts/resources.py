"""The alerts list's export columns (docs/exports.md)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from feemgmt.core.admin_export import ExportResource, column, label_column

from .models import Alert


class AlertResource(ExportResource):
    display_name = _("alerts")
    select_related = ("customer", "owner")

    id = column(Alert, "id")
    kind = label_column(Alert, "kind")
    severity = label_column(Alert, "severity")
    subject = column(Alert, "subject")
    customer_code = column(Alert, "customer__code")
    customer = column(Alert, "customer__name", label=_("customer"))
    message = column(Alert, "message")
    status = label_column(Alert, "status")
    owner = column(Alert, "owner__username", label=_("owner"))
    created_at = column(Alert, "created_at")
    resolved_at = column(Alert, "resolved_at")
