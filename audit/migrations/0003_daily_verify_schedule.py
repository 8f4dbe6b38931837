"""Schedule the daily verification of the audit chain in the beat database, where
staff can see, move or pause it in the admin."""

from django.db import migrations

from feemgmt.core.schedules import schedule_daily, unschedule

TASK_NAME = "Daily audit chain verification"


def create_schedule(apps, schema_editor):
    schedule_daily(
        apps,
        name=TASK_NAME,
        task="audit.verify",
        hour=6,
        minute=30,
        description="Re-checks every audit event's hash and link, mails the chain's "
        "head to the auditors and raises a critical alert if the chain is broken.",
    )


def remove_schedule(apps, schema_editor):
    unschedule(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only_triggers"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
