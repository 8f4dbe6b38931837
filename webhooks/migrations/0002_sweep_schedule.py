"""The every-minute sweeper in the beat database, where staff can see, move or
pause it: it sends the retries that are due and the deliveries whose task was lost."""

from django.db import migrations

NAME = "Webhook deliveries sweep"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _created = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "webhooks.sweep",
            "interval": every,
            "description": "Sends the webhook deliveries that are due: retries after a "
            "failure, and deliveries whose task after commit was lost.",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_endpoints_outbox_deliveries"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
