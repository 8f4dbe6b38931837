"""The demo's staff: one login per role (demo only: the password is the username).
The roles themselves — the groups and their permissions — come from the access
app's migrations (docs/roles.md), not from the demo."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from feemgmt.core.roles import AUDITOR, FINANCE_CLERK, FINANCE_MANAGER

# (username, superuser?, group). Demo only: the password is the username.
DEMO_USERS = (
    ("admin", True, None),
    ("clerk", False, FINANCE_CLERK),
    ("manager", False, FINANCE_MANAGER),
    ("auditor", False, AUDITOR),
)


@transaction.atomic
def demo_staff() -> list[str]:
    """The demo logins, one per role; returns a line per login to print."""
    groups = {group.name: group for group in Group.objects.filter(name__in=_role_names())}
    missing = set(_role_names()) - set(groups)
    if missing:
        raise CommandError(_("Roles missing (run migrate first): %s") % ", ".join(sorted(missing)))
    User = get_user_model()
    lines = []
    for username, superuser, group_name in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        new = user is None
        if new:
            # An existing user is left as it is: never re-enable or promote an account.
            user = User(
                username=username,
                email=f"{username}@example.com",
                is_staff=True,
                is_superuser=superuser,
            )
            user.set_password(username)
            user.save()
        if group_name:
            user.groups.add(groups[group_name])
        role = _("superuser") if superuser else group_name
        password = username if new else _("(existing user, password unchanged)")
        lines.append(f"{username} / {password}  [{role}]")
    token, _created = Token.objects.get_or_create(user=User.objects.get(username="admin"))
    lines.append(_("API token for admin: %s") % token.key)
    return lines


def _role_names() -> list[str]:
    return [group for _name, _superuser, group in DEMO_USERS if group]
