"""Schedule the daily look for ended contracts whose deposit is still held."""

from django.db import migrations

from feemgmt.core.schedules import schedule_daily, unschedule

TASK_NAME = "Daily check for deposits to release"


def create_schedule(apps, schema_editor):
    schedule_daily(
        apps,
        name=TASK_NAME,
        task="payments.deposits_to_release",
        hour=7,
        minute=10,
        description="Raises an alert for each ended or terminated contract whose deposit "
        "is still held.",
    )


def remove_schedule(apps, schema_editor):
    unschedule(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0004_refund_source_depositrelease"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
