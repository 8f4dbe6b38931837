"""``manage.py collect [--date YYYY-MM-DD]``: collect every charge whose collection
step is due, here and now (what the beat sweep hands to workers)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from payments.services.collection import charge_collect, collectable_charge_ids


class Command(BaseCommand):
    help = "Collect the charges whose collection step is due (prepaid balance, then gateway)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="collection date, YYYY-MM-DD (default: today)")

    def handle(self, *args, date=None, verbosity=1, **options):
        try:
            day = dt.date.fromisoformat(date) if date else timezone.localdate()
        except ValueError as exc:
            raise CommandError(_("--date must be YYYY-MM-DD.")) from exc
        ids = collectable_charge_ids(on=day)
        outcomes: Counter[str] = Counter()
        for done, charge_id in enumerate(ids, 1):
            outcomes[charge_collect(charge_id, on=day)] += 1
            if verbosity >= 1 and (done % 100 == 0 or done == len(ids)):
                self.stdout.write(f"\r  {done}/{len(ids)}", ending="")
        if ids and verbosity >= 1:
            self.stdout.write("")
        summary = ", ".join(f"{name} {count}" for name, count in sorted(outcomes.items()))
        self.stdout.write(
            _("Collection for %(day)s: %(count)d charges (%(summary)s)")
            % {"day": day, "count": len(ids), "summary": summary or "-"}
        )
