"""Changes not consented by their effective date lapse every night, before the
billing run charges the day's periods (docs/amendments.md)."""

from django.db import migrations

from feemgmt.core.schedules import schedule_daily, unschedule

TASK_NAME = "Lapse undecided fee changes"


def create_schedule(apps, schema_editor):
    schedule_daily(
        apps,
        name=TASK_NAME,
        task="billing.amendments_lapse",
        hour=0,
        minute=1,
        description="Fee changes still undecided on their effective date lapse; the old fee stays.",
    )


def remove_schedule(apps, schema_editor):
    unschedule(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0006_fee_amendments"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
