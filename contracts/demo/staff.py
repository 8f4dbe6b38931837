"""The demo's staff: the finance clerk and manager groups with their permissions, and
one login per role (demo only: the password is the username)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

CLERK_GROUP = "财务人员"
MANAGER_GROUP = "财务经理"
_CLERK_PERMISSIONS = {
    "contracts.customer": ("view", "add", "change"),
    "contracts.contract": ("view", "add", "change"),
    "contracts.fee": ("view", "add", "change"),
    # "add charge" is what lets a clerk start a billing run; charges are never edited.
    "billing.charge": ("view", "add"),
    "payments.paymentattempt": ("view",),
    "payments.refund": ("view", "add"),
    "payments.writeoffrequest": ("view", "add"),
    "payments.depositrelease": ("view", "add"),
    "payments.mandate": ("view", "add", "change"),
    "payments.directdebitbatch": ("view",),
    "alerts.alert": ("view", "change"),
    "reconciliation.bankaccount": ("view",),
    "reconciliation.statement": ("view", "add"),
    "reconciliation.statementline": ("view",),
    "reconciliation.match": ("view", "change"),
    "reconciliation.discrepancy": ("view", "change"),
    "reconciliation.reconciliationrun": ("view", "add"),
}
_MANAGER_EXTRA = {
    "contracts.customer": ("delete",),
    "contracts.contract": ("delete",),
    "contracts.fee": ("delete",),
    "payments.writeoffrequest": ("approve",),
    "payments.depositrelease": ("approve",),
    "reconciliation.bankaccount": ("add", "change"),
    "reconciliation.reconciliationrun": ("sign_off", "reopen"),
}
# (username, superuser?, group). Demo only: the password is the username.
DEMO_USERS = (
    ("admin", True, None),
    ("clerk", False, CLERK_GROUP),
    ("manager", False, MANAGER_GROUP),
)


@transaction.atomic
def demo_staff() -> list[str]:
    """The finance groups with their permissions and the demo logins; returns a
    line per login to print."""
    permissions = {
        CLERK_GROUP: _CLERK_PERMISSIONS,
        MANAGER_GROUP: {
            model: _CLERK_PERMISSIONS.get(model, ()) + _MANAGER_EXTRA.get(model, ())
            for model in _CLERK_PERMISSIONS.keys() | _MANAGER_EXTRA.keys()
        },
    }
    groups = {}
    for name, grants in permissions.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions(grants))
        groups[name] = group

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


def _permissions(grants: dict[str, tuple[str, ...]]) -> list[Permission]:
    wanted = set()
    for label, actions in grants.items():
        app_label, model = label.split(".")
        wanted |= {(app_label, f"{action}_{model}") for action in actions}
    found = list(
        Permission.objects.filter(
            content_type__app_label__in={app for app, _codename in wanted},
            codename__in={codename for _app, codename in wanted},
        ).select_related("content_type")
    )
    found = [p for p in found if (p.content_type.app_label, p.codename) in wanted]
    missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
    if missing:
        raise CommandError(
            _("Permissions missing (run migrate first): %s")
            % ", ".join(sorted(f"{a}.{c}" for a, c in missing))
        )
    return found
