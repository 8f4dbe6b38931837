"""On PostgreSQL, index the ids bulk events carry, so an object's history finds the
billing chunk or statement import that created it without reading the whole trail.
(SQLite, the embedded demo default, reads the trail: it holds a demo's worth.)"""

from django.db import migrations

INDEX = "audit_bulk_ids_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON audit_auditevent "
            "USING gin ((bulk -> 'ids') jsonb_path_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_daily_verify_schedule")]

    operations = [migrations.RunPython(create, drop)]
