"""What the collection endpoints share: the answers they document, the permission
classes of their actions and how a service's refusal becomes an answer.

A refused state change (``InvalidTransition``) is a 409 and any other rule a 400
with a message per field, both in ``feemgmt.api.errors``. A decision the four-eyes
rule or the approval permission refuses is a 403 here: the caller may not make it,
whatever it sends.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework.exceptions import PermissionDenied

from feemgmt.api.permissions import IsStaffWithModelPermissions
from feemgmt.core.exceptions import BusinessError

INVALID = OpenApiResponse(
    description=_("Invalid input or filter, or a business rule refused it: a message per field.")
)
FORBIDDEN = OpenApiResponse(
    description=_(
        "Not authenticated, without the permission this needs, or an API key that "
        "cannot be used here."
    )
)
NOT_FOUND = OpenApiResponse(
    description=_("No such object (or another customer's, for a key scoped to a customer).")
)
REFUSED_CHANGE = OpenApiResponse(
    description=_("The object's current status does not allow this change.")
)

# BusinessError codes that say who may decide, not what was sent.
REFUSED_DECIDERS = frozenset({"same_user", "forbidden"})


def validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@contextmanager
def decider_refusals_forbidden():
    """A decision refused for who makes it (the requester, or without the approval
    permission) answers 403, not a 400 about a field the caller never sent."""
    try:
        yield
    except BusinessError as exc:
        if exc.code in REFUSED_DECIDERS:
            raise PermissionDenied(" ".join(exc.messages())) from exc
        raise


class CanChange(IsStaffWithModelPermissions):
    """Actions that change an object (revoking a mandate, retrying or cancelling a
    charge): ``change_*``, not the ``add_*`` a plain POST would ask for."""

    perms_map = {
        **IsStaffWithModelPermissions.perms_map,
        "POST": ["%(app_label)s.change_%(model_name)s"],
    }


class CanApproveWriteOff(IsStaffWithModelPermissions):
    """Approving or rejecting a write-off needs ``approve_writeoffrequest`` (the
    admin's permission); the service also refuses the requester."""

    perms_map = {
        **IsStaffWithModelPermissions.perms_map,
        "POST": [
            "%(app_label)s.view_%(model_name)s",
            "%(app_label)s.approve_%(model_name)s",
        ],
    }
