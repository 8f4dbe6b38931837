"""Integrators (集成方) also manage their webhook endpoints and read, and redeliver,
their deliveries: an integrator's system is what receives them. (Keys scoped to
one customer are refused on these endpoints all the same: events are about every
customer.)"""

from django.db import migrations

from feemgmt.core.grants import roles_grant, roles_ungrant

INTEGRATOR = "集成方"
GRANTS = {
    "webhooks.view_webhookendpoint",
    "webhooks.add_webhookendpoint",
    "webhooks.change_webhookendpoint",
    "webhooks.delete_webhookendpoint",
    "webhooks.view_webhookdelivery",
    "webhooks.change_webhookdelivery",
}


def grant(apps, schema_editor):
    roles_grant(apps, {INTEGRATOR: GRANTS})


def revoke(apps, schema_editor):
    roles_ungrant(apps, {INTEGRATOR: GRANTS})


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_integrator_role_and_purge_schedule"),
        ("webhooks", "0002_sweep_schedule"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
