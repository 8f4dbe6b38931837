"""An index on (created_at, id) for the API's list of payment attempts: newest
first by cursor, and limited to a range of days, each page one index range scan
(docs/api.md, "Collection endpoints"). Built without blocking collection on
PostgreSQL."""

from django.db import migrations, models

from feemgmt.core.migration_ops import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("payments", "0006_attempt_decided_at_index")]

    operations = [
        AddIndexOnline(
            model_name="paymentattempt",
            index=models.Index(fields=["created_at", "id"], name="attempt_created_at_id"),
        ),
    ]
