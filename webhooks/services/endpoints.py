"""Endpoints: created, changed, deleted and given a new secret by staff.

Each change is audited (the secret never: the event says only that it was
rotated) and, once committed, reloads the process's knowledge of the subscribed
types (``webhooks.subscriptions``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from audit.services import audit_record, changes_between, snapshot
from feemgmt.core.exceptions import BusinessError

from .. import subscriptions
from ..choices import EventType
from ..models import WebhookEndpoint
from ..signing import new_secret

RECORDED_FIELDS = ("url", "description", "event_types", "active")
# An http(s) address: a host name or IPv4 address, a port, then a path without
# spaces. The API's schema shows the same pattern.
URL_PATTERN = re.compile(r"https?://[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]{1,5})?([/?#]\S*)?")
URL_INVALID = _lazy("Give a full http:// or https:// address.")


def _clean_types(event_types: Sequence[str]) -> list[str]:
    known = set(EventType.values)
    types = list(dict.fromkeys(event_types))
    unknown = [code for code in types if code not in known]
    if not types:
        raise BusinessError({"event_types": [_("Choose at least one event type.")]})
    if unknown:
        raise BusinessError(
            {"event_types": [_("Unknown event types: %(types)s.") % {"types": ", ".join(unknown)}]}
        )
    return sorted(types)


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if not URL_PATTERN.fullmatch(url):
        raise BusinessError({"url": [URL_INVALID]})
    return url


def _reload_after_commit() -> None:
    transaction.on_commit(subscriptions.reload, robust=True)


@transaction.atomic
def webhook_endpoint_create(
    *,
    url: str,
    event_types: Sequence[str],
    description: str = "",
    active: bool = True,
    created_by=None,
) -> WebhookEndpoint:
    """A new endpoint with a secret generated here; the caller shows
    ``endpoint.secret`` once."""
    endpoint = WebhookEndpoint.objects.create(
        url=_clean_url(url),
        description=description.strip(),
        event_types=_clean_types(event_types),
        active=active,
        secret=new_secret(),
        created_by=created_by,
    )
    audit_record(
        action="webhook_endpoint.created",
        obj=endpoint,
        changes={"after": snapshot(endpoint, RECORDED_FIELDS)},
    )
    _reload_after_commit()
    return endpoint


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, **fields) -> WebhookEndpoint:
    """Change the URL, description, types or whether it is active."""
    unknown = set(fields) - set(RECORDED_FIELDS)
    if unknown:
        raise TypeError(f"not an endpoint field: {sorted(unknown)}")
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    before = snapshot(endpoint, RECORDED_FIELDS)
    if "url" in fields:
        fields["url"] = _clean_url(fields["url"])
    if "event_types" in fields:
        fields["event_types"] = _clean_types(fields["event_types"])
    if "description" in fields:
        fields["description"] = (fields["description"] or "").strip()
    for name, value in fields.items():
        setattr(endpoint, name, value)
    changes = changes_between(before, snapshot(endpoint, RECORDED_FIELDS))
    if changes:
        endpoint.save()
        audit_record(action="webhook_endpoint.updated", obj=endpoint, changes=changes)
        _reload_after_commit()
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret signs every delivery from now on (a retry of an older event
    too); the old one stops working at once."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    audit_record(action="webhook_endpoint.secret_rotated", obj=endpoint, changes={})
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """The endpoint and its delivery log go; the events stay in the outbox."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    before = snapshot(endpoint, RECORDED_FIELDS)
    pk = endpoint.pk
    endpoint.delete()
    audit_record(
        action="webhook_endpoint.deleted",
        object_type=WebhookEndpoint._meta.label_lower,
        object_id=pk,
        changes={"before": before},
    )
    _reload_after_commit()
