"""Integrators (集成方) also manage their webhook endpoints and read, and redeliver,
their deliveries: an integrator's system is what receives them. (Keys scoped to
one customer are refused on these endpoints all the same: events are about every
customer.)"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

INTEGRATOR = "集成方"
GRANTS = {
    "webhooks.view_webhookendpoint",
    "webhooks.add_webhookendpoint",
    "webhooks.change_webhookendpoint",
    "webhooks.delete_webhookendpoint",
    "webhooks.view_webhookdelivery",
    "webhooks.change_webhookdelivery",
}


def _permissions(apps):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    found = list(
        Permission.objects.filter(
            content_type__app_label="webhooks",
            codename__in={name.split(".")[1] for name in GRANTS},
        )
    )
    if len(found) != len(GRANTS):
        raise RuntimeError(f"permissions missing among {sorted(GRANTS)}")
    return found


def grant(apps, schema_editor):
    group, _created = apps.get_model("auth", "Group").objects.get_or_create(name=INTEGRATOR)
    group.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=INTEGRATOR).first()
    if group is not None:
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_integrator_role_and_purge_schedule"),
        ("webhooks", "0002_sweep_schedule"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
