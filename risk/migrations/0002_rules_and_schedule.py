"""The rules' rows, from settings.RISK_RULES, and their daily schedule in the beat
database, where staff can see, move or pause it."""

from decimal import Decimal

from django.conf import settings
from django.db import migrations

from feemgmt.core.schedules import schedule_daily, unschedule

EVALUATE = "Risk warnings"
WAKE = "Wake snoozed alerts"


def create_rules(apps, schema_editor):
    RiskRule = apps.get_model("risk", "RiskRule")
    for code, values in settings.RISK_RULES.items():
        percent = values.get("percent")
        RiskRule.objects.get_or_create(
            code=code,
            defaults={
                "enabled": values.get("enabled", True),
                "severity": values.get("severity", "warning"),
                "count": values.get("count"),
                "days": values.get("days"),
                "percent": Decimal(str(percent)) if percent is not None else None,
            },
        )


def create_schedule(apps, schema_editor):
    schedule_daily(
        apps,
        name=EVALUATE,
        task="risk.evaluate",
        hour=8,
        minute=30,
        description="Evaluates every risk rule, raises and resolves alerts, and e-mails "
        "the finance group a digest of the new ones.",
    )
    schedule_daily(
        apps,
        name=WAKE,
        task="alerts.wake",
        hour=0,
        minute=5,
        description="Opens again the snoozed alerts whose day has come.",
    )


def remove_schedule(apps, schema_editor):
    unschedule(apps, name=EVALUATE)
    unschedule(apps, name=WAKE)


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(create_rules, migrations.RunPython.noop),
        migrations.RunPython(create_schedule, remove_schedule),
    ]
