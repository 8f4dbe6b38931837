"""Schedule collection in the beat database, where staff can see, move or pause it."""

from django.db import migrations

SWEEP = "Collection sweep"
NOTICES = "Daily customer notices"
DEBITS = "Direct debit batches"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_ten_minutes, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=SWEEP,
        defaults={
            "task": "payments.sweep",
            "interval": every_ten_minutes,
            "description": "Collects due charges, retries failed ones and resolves "
            "payments whose outcome is not known yet.",
        },
    )
    morning, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="8",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.get_or_create(
        name=NOTICES,
        defaults={
            "task": "payments.daily_notices",
            "crontab": morning,
            "description": "Tells customers of upcoming direct debits and expiring mandates.",
        },
    )

    afternoon, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="15",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.get_or_create(
        name=DEBITS,
        defaults={
            "task": "payments.direct_debit_batches",
            "crontab": afternoon,
            "description": "Writes the day's direct debits into pain.008 files for the bank.",
        },
    )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[SWEEP, NOTICES, DEBITS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
