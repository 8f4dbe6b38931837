"""Beat schedules created by data migrations.

Periodic tasks live in the beat database (django-celery-beat), where staff can see,
move or pause them in the admin; each app's migration creates its own with these
functions, given the migration's historical ``apps``.
"""

from __future__ import annotations


def schedule_daily(apps, *, name: str, task: str, hour: int, minute: int, description: str) -> None:
    """Run ``task`` every day at hour:minute, billing time zone (idempotent)."""
    schedule_crontab(apps, name=name, task=task, hour=hour, minute=minute, description=description)


def schedule_crontab(
    apps, *, name: str, task: str, hour: int | str, minute: int | str, description: str
) -> None:
    """Run ``task`` at ``minute`` of ``hour`` (``"*"``: every hour), billing time
    zone (idempotent)."""
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute=str(minute),
        hour=str(hour),
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.get_or_create(
        name=name, defaults={"task": task, "crontab": crontab, "description": description}
    )


def unschedule(apps, *, name: str) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()
