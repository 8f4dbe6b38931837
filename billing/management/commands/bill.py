import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.services import BillingTotals, billing_actor, billing_run
from feemgmt.core.exceptions import BusinessError


class Command(BaseCommand):
    help = _(
        "Run billing for a date: create every charge due on or before it that does not "
        "exist yet (catching up after downtime). Safe to repeat."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            dest="on",
            help=_("Billing date, YYYY-MM-DD (default: today in the billing time zone)."),
        )
        parser.add_argument("--chunk-size", type=int, default=None, help=_("Fees per chunk."))

    def handle(self, *args, on=None, chunk_size=None, verbosity=1, **options):
        try:
            day = dt.date.fromisoformat(on) if on else timezone.localdate()
        except ValueError as exc:
            raise CommandError(_("--date must be a date like 2026-01-31, not “%s”.") % on) from exc
        if chunk_size is not None and chunk_size < 1:
            raise CommandError(_("--chunk-size must be at least 1."))
        show_progress = verbosity >= 1
        try:
            with billing_actor():
                result = billing_run(
                    on=day,
                    chunk_size=chunk_size,
                    progress=self._progress if show_progress else None,
                )
        except BusinessError as exc:  # printed on stderr, exit status 1
            raise CommandError(" ".join(exc.messages())) from exc
        self.stdout.write(_("Billing run for %(date)s") % {"date": day.isoformat()})
        self.stdout.write(
            _("  contracts activated / ended: %(activated)d / %(ended)d")
            % {"activated": result.activated, "ended": result.ended}
        )
        self.stdout.write(_("  contracts seen: %d") % result.contracts_seen)
        self.stdout.write(_("  fees due: %d") % result.fees_seen)
        self.stdout.write(_("  charges created: %d") % result.charges_created)
        totals = result.totals()
        if not totals:
            self.stdout.write(_("  total amount: 0"))
        for currency, amount in totals.items():
            self.stdout.write(
                _("  total %(currency)s: %(amount)s")
                % {"currency": currency, "amount": amount.amount}
            )
        self.stdout.write(_("  time: %.2fs") % result.seconds)

    def _progress(self, done: int, total: int, totals: BillingTotals) -> None:
        percent = 100 * done // total if total else 100
        sys.stderr.write(
            "\r"
            + _("  %(done)d / %(total)d fees (%(percent)d%%), %(charges)d charges")
            % {"done": done, "total": total, "percent": percent, "charges": totals.charges_created}
        )
        if done >= total:
            sys.stderr.write("\n")  # end the line before anything else is printed
        sys.stderr.flush()
