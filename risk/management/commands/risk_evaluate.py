"""``manage.py risk_evaluate [--date YYYY-MM-DD] [--rule CODE ...] [--notify]``:
evaluate the risk rules now, as the daily schedule does (docs/risk.md)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.choices import Severity
from alerts.services import alerts_notify
from audit.context import actor_scope
from risk.rules import RULES
from risk.services import risk_evaluate


class Command(BaseCommand):
    help = _("Evaluate the risk rules: raise and resolve their alerts.")

    def add_arguments(self, parser):
        parser.add_argument("--date", help=_("The day to evaluate for (default today)."))
        parser.add_argument(
            "--rule", action="append", dest="rules", help=_("Only this rule (repeatable).")
        )
        parser.add_argument(
            "--notify",
            action="store_true",
            help=_("E-mail the finance group the digest of new alerts afterwards."),
        )

    def handle(self, *args, date=None, rules=None, notify=False, **options):
        try:
            day = dt.date.fromisoformat(date) if date else timezone.localdate()
        except ValueError as error:
            raise CommandError(_("--date must be YYYY-MM-DD.")) from error
        unknown = sorted(set(rules or ()) - set(RULES))
        if unknown:
            raise CommandError(_("Unknown rules: %s") % ", ".join(unknown))
        with actor_scope("system:risk_evaluate"):
            runs = risk_evaluate(codes=rules, today=day)
        self.stdout.write(_("Risk warnings for %s:") % day.isoformat())
        for code, run in runs.items():
            self.stdout.write(
                "  "
                + _("%(rule)s: %(found)d found, %(raised)d new, %(resolved)d resolved")
                % {
                    "rule": RULES[code].code.label,
                    "found": run.found,
                    "raised": run.raised,
                    "resolved": run.resolved,
                }
            )
        if notify:
            told = alerts_notify(lowest=Severity.WARNING)
            self.stdout.write(_("%d alerts e-mailed.") % told)
