"""The audit event: one row per recorded change, chained by SHA-256.

Rows are never updated or deleted — the database refuses (migration 0002) — so
nothing here may point at a row that can go away: the acting user is kept as a
plain id and a readable ``actor`` string, not a foreign key whose SET_NULL would
need an UPDATE. The sequence is the primary key, so the hash covers every column
but itself.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .canonical import sha256_hex, utc_iso

# The columns a hash covers, in the names the canonical payload uses.
HASHED_FIELDS = (
    "sequence",
    "occurred_at",
    "actor",
    "actor_user_id",
    "action",
    "object_type",
    "object_id",
    "changes",
    "bulk",
    "request_id",
    "ip",
    "prev_hash",
)


class AuditEvent(models.Model):
    sequence = models.BigIntegerField(_("sequence"), primary_key=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    actor = models.CharField(_("actor"), max_length=200)
    actor_user_id = models.BigIntegerField(_("user id"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=100)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=100, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    bulk = models.JSONField(_("bulk rows"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    # Text, not inet: PostgreSQL rewrites some IPv6 forms, which would break the hash.
    # NULL outside a request: there was no address, rather than an empty one.
    ip = models.CharField(_("IP address"), max_length=45, null=True, blank=True)  # noqa: DJ001
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-sequence"]
        permissions = [("verify_auditevent", _("Can verify the audit chain"))]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["action", "-sequence"], name="audit_action_idx"),
        ]

    def __str__(self):
        target = f" {self.object_type}:{self.object_id}" if self.object_type else ""
        return f"#{self.sequence} {self.action}{target}"

    def hashed_payload(self) -> dict:
        payload = {name: getattr(self, name) for name in HASHED_FIELDS}
        payload["occurred_at"] = utc_iso(self.occurred_at)
        return payload

    def compute_hash(self) -> str:
        return sha256_hex(self.hashed_payload())
