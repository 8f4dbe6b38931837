"""Issuing and revoking API keys; both are audited.

The events name a key by its prefix (unique, and what the admin and the key's
actor show): its primary key holds the hash and is longer than an event's
object id.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record, label_of
from feemgmt.core.exceptions import BusinessError

from .models import APIKey


def api_key_check_terms(*, name: str, user, expiry_date: dt.datetime | None) -> None:
    """The rules a new key's terms must meet (the admin form shows them per field)."""
    errors = {}
    if not name.strip():
        errors["name"] = [_("Name the key.")]
    if user is not None and not user.is_active:
        errors["user"] = [_("A key cannot act as an inactive user.")]
    elif user is not None and user.is_superuser:
        errors["user"] = [_("A key cannot act as a superuser: give it a user of its own.")]
    if expiry_date is not None and expiry_date <= timezone.now():
        errors["expiry_date"] = [_("The expiry must be in the future.")]
    if errors:
        raise BusinessError(errors)


def api_key_create(
    *,
    name: str,
    user,
    customer=None,
    expiry_date: dt.datetime | None = None,
    by=None,
) -> tuple[APIKey, str]:
    """A new key acting as ``user``; returns it with the key's text, which is shown
    this once and never stored (only its hash is)."""
    api_key_check_terms(name=name, user=user, expiry_date=expiry_date)
    with transaction.atomic():
        key, secret = APIKey.objects.create_key(
            name=name.strip(),
            user=user,
            customer=customer,
            expiry_date=expiry_date,
            created_by=by,
        )
        audit_record(
            action="api_key.created",
            object_type=label_of(key),
            object_id=key.prefix,
            changes={
                "after": {
                    "name": key.name,
                    "prefix": key.prefix,
                    "user": user.pk,
                    "customer": key.customer_id,
                    "expiry_date": expiry_date,
                }
            },
        )
    return key, secret


def api_key_revoke(*, key: APIKey, by=None) -> APIKey:
    """Revoke for good: the key stops working on its next request."""
    with transaction.atomic():
        key = APIKey.objects.select_for_update().get(pk=key.pk)
        if key.revoked:
            raise BusinessError({"revoked": [_("This key is already revoked.")]})
        key.revoked, key.revoked_at, key.revoked_by = True, timezone.now(), by
        key.save(update_fields=["revoked", "revoked_at", "revoked_by"])
        audit_record(
            action="api_key.revoked",
            object_type=label_of(key),
            object_id=key.prefix,
            changes={"revoked": [False, True]},
        )
    return key
