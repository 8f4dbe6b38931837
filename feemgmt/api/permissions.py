"""Who may call the API: staff accounts, and API keys acting for their user.

Both are held to the user's Django model permissions (reading needs the model's
view permission). A key's user is not staff (it cannot open the admin); the key
itself is what lets it in, and only while it is usable (the authenticator refuses
revoked or expired keys and keys of inactive users).

A key scoped to one customer is refused (403) on views that do not say how their
rows reach a customer (``customer_path``, feemgmt/api/scoping.py): a new endpoint
stays closed to scoped keys until it is scoped.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import DjangoModelPermissions

from .scoping import api_key_of

CUSTOMER_LESS = _(
    "This API key is limited to one customer; this endpoint serves data of no single customer."
)


def is_api_caller(request) -> bool:
    """A staff account, or an API key acting for an active user."""
    user = request.user
    if not (user and user.is_authenticated):
        return False
    return bool(user.is_staff or api_key_of(request) is not None)


def refuse_customer_less(request, view) -> None:
    key = api_key_of(request)
    scoped = key is not None and key.customer_id is not None
    if scoped and getattr(view, "customer_path", None) is None:
        raise PermissionDenied(CUSTOMER_LESS)


class IsStaffWithModelPermissions(DjangoModelPermissions):
    """Staff accounts and API keys, each allowed what its (or its user's) Django
    permissions allow; scoped keys only on scoped views."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
    }

    def has_permission(self, request, view):
        if not is_api_caller(request):
            return False
        refuse_customer_less(request, view)
        return super().has_permission(request, view)
