"""``Authorization: Api-Key <prefix>.<secret>`` for DRF.

A request without that header is left to the other authenticators (session,
token). One with it must carry a usable key: unknown, revoked or expired keys and
keys acting for an inactive user are refused, never passed on as anonymous.
The key's user becomes ``request.user`` and the key ``request.auth``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_api_key.permissions import KeyParser

from .models import APIKey

KEYWORD = "Api-Key"
INVALID = _("This API key is not valid, has been revoked or has expired.")
# Set on the Django request once a key was checked, so a second authentication of
# the same request (the idempotency middleware, then the view) costs no query.
CACHE_ATTRIBUTE = "_integrations_api_key"


def key_from_header(request) -> str | None:
    return KeyParser().get_from_authorization(request)


def api_key_check(raw: str) -> APIKey:
    """The usable key for ``raw``, or AuthenticationFailed. One query (the key
    with its user), plus one update when its last use is older than
    API_KEY_LAST_USED_RESOLUTION seconds."""
    prefix, dot, _secret = raw.partition(".")
    if not dot or not prefix:
        raise AuthenticationFailed(INVALID)
    key = APIKey.objects.select_related("user").filter(prefix=prefix, revoked=False).first()
    if key is None or not key.is_valid(raw) or key.has_expired or not key.user.is_active:
        raise AuthenticationFailed(INVALID)
    now = timezone.now()
    resolution = dt.timedelta(seconds=settings.API_KEY_LAST_USED_RESOLUTION)
    if key.last_used_at is None or now - key.last_used_at >= resolution:
        APIKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


class APIKeyAuthentication(BaseAuthentication):
    keyword = KEYWORD

    def authenticate(self, request):
        django_request = getattr(request, "_request", request)
        cached = getattr(django_request, CACHE_ATTRIBUTE, None)
        if cached is not None:
            return cached.user, cached
        raw = key_from_header(django_request)
        if raw is None:
            return None
        key = api_key_check(raw)
        setattr(django_request, CACHE_ATTRIBUTE, key)
        return key.user, key

    def authenticate_header(self, request) -> str:
        return self.keyword
