"""An index on when attempts were decided, for the dashboard's figures of the day
(docs/dashboard.md), built without blocking collection on PostgreSQL."""

from django.db import migrations, models

from feemgmt.core.migration_ops import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("payments", "0005_deposits_to_release_schedule")]

    operations = [
        AddIndexOnline(
            model_name="paymentattempt",
            index=models.Index(
                condition=models.Q(decided_at__isnull=False),
                fields=["decided_at"],
                name="attempt_decided_at",
            ),
        ),
    ]
