"""API keys for integrators, and the stored answers of idempotent POSTs.

A key acts as one user: what it may do is that user's Django permissions, so an
integrator's rights are managed like anyone's (the 集成方 group). A key may be
scoped to one customer; the API then shows and accepts only that customer's
objects (feemgmt/api/scoping.py). The key itself is stored hashed by
djangorestframework-api-key and shown once, when it is created.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from .choices import IdempotencyState


class APIKey(AbstractAPIKey):
    """An integrator's key. Revoking cannot be undone (the library refuses it)."""

    # feemgmt/api reads these without importing this app (it sits below it)
    is_api_key = True

    name = models.CharField(
        _("name"), max_length=50, help_text=_("What the key is for; need not be unique.")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_keys",
        verbose_name=_("acts as"),
        help_text=_("The key may do what this user's permissions allow."),
    )
    customer = models.ForeignKey(
        "contracts.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="api_keys",
        verbose_name=_("customer scope"),
        help_text=_("When set, the key sees and creates only this customer's objects."),
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("created by"),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("revoked by"),
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    @property
    def audit_actor(self) -> str:
        """How the audit trail names what this key did (docs/api.md)."""
        return f"apikey:{self.prefix}:{self.user.get_username()}"

    @property
    def idempotency_owner(self) -> str:
        return f"apikey:{self.pk}"


class IdempotencyRecord(models.Model):
    """One Idempotency-Key of one caller: who runs the request is decided by the
    unique (owner, key) row, inserted before the view runs; the answer is stored on
    it afterwards and replayed for 24 hours (IDEMPOTENCY_KEY_HOURS)."""

    owner = models.CharField(_("owner"), max_length=190)
    key = models.CharField(_("idempotency key"), max_length=255)
    method = models.CharField(_("method"), max_length=10)
    path = models.CharField(_("path"), max_length=2000)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    state = models.CharField(
        _("state"), max_length=16, choices=IdempotencyState.choices, default="running"
    )
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True)
    response_content_type = models.CharField(_("content type"), max_length=200, blank=True)
    response_headers = models.JSONField(_("response headers"), default=dict, blank=True)
    response_body = models.BinaryField(_("response body"), default=b"")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(_("completed at"), null=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"
