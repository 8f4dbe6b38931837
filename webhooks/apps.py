from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    """Signed event deliveries to the integrators' endpoints (docs/webhooks.md)."""

    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from celery.signals import task_prerun
        from django.core.signals import request_started
        from django.db.models.signals import post_migrate

        from audit.events import recorded

        from . import receivers

        recorded.connect(receivers.on_audit_recorded, dispatch_uid="webhooks.outbox")
        request_started.connect(receivers.on_request_started, dispatch_uid="webhooks.refresh")
        task_prerun.connect(receivers.on_task_prerun, dispatch_uid="webhooks.refresh", weak=False)
        post_migrate.connect(receivers.on_post_migrate, sender=self, dispatch_uid="webhooks.db")
