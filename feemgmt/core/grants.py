"""Role grants written by data migrations (docs/roles.md).

The roles' migrations write each group's grants out as they stand at that
migration; these functions do the shared part, given the migration's historical
``apps``. Permissions are created first: Django otherwise adds them only after the
whole migrate run, so a fresh database would not have them yet.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.management import create_permissions


def permissions_named(apps, names: Iterable[str]) -> dict:
    """``{"app_label.codename": Permission}`` for ``names``; RuntimeError naming
    any that does not exist (a typo, or a model its migration does not know)."""
    names = set(names)
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    found = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type").filter(
            codename__in={name.split(".")[1] for name in names}
        )
    }
    missing = names - set(found)
    if missing:
        raise RuntimeError(f"permissions missing: {sorted(missing)}")
    return {name: found[name] for name in names}


def roles_set(apps, roles: dict[str, Iterable[str]]) -> None:
    """Each group of ``roles`` (created if absent) holds exactly its grants."""
    found = permissions_named(apps, set().union(*map(set, roles.values())))
    Group = apps.get_model("auth", "Group")
    for name, grants in roles.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set([found[grant] for grant in sorted(grants)])


def roles_grant(apps, roles: dict[str, Iterable[str]]) -> None:
    """Each group of ``roles`` (created if absent) is given its grants, keeping
    what it held."""
    found = permissions_named(apps, set().union(*map(set, roles.values())))
    Group = apps.get_model("auth", "Group")
    for name, grants in roles.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(*[found[grant] for grant in sorted(grants)])


def roles_ungrant(apps, roles: dict[str, Iterable[str]]) -> None:
    """Take ``roles``' grants back from the groups that exist (a migration's undo)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in roles.items():
        group = Group.objects.filter(name=name).first()
        if group is None:
            continue
        for grant in grants:
            app_label, codename = grant.split(".")
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
