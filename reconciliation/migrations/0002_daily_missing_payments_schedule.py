"""Schedule the daily search for payments missing from the statements."""

from django.db import migrations

from feemgmt.core.schedules import schedule_daily, unschedule

TASK_NAME = "Daily check for payments missing from statements"


def create_schedule(apps, schema_editor):
    schedule_daily(
        apps,
        name=TASK_NAME,
        task="reconciliation.find_missing",
        hour=7,
        minute=0,
        description="Raises a discrepancy for each bank transfer long overdue and each "
        "gateway payment its bills do not show.",
    )


def remove_schedule(apps, schema_editor):
    unschedule(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
