"""``manage.py demo_data``: demo staff logins and a believable book of contracts.

Every contract is written through the services (create, sign, terminate), so demo
data obeys the same rules as real data; ``--set-based`` writes the same rows a
batch at a time instead (contracts/demo/seed.py), for books too large for the
services' pace. Contracts are signed without billing at
once, as a book of existing contracts is loaded, so every charge is created by the
billing run that follows. The data set is a pure function of ``--seed`` and ``--today``, and of
the contract's index: contract ``DEMO-000042`` is the same whether 50 or 10,000 are
asked for, so re-running (or asking for more) only adds what is missing.

The charges come from the billing run (the ``bill`` command, called by name: the
contracts app sits below billing and does not import it).
"""

from __future__ import annotations

import datetime as dt
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.demo.plan import ContractSpec, demo_plan
from contracts.demo.seed import demo_seed
from contracts.demo.staff import demo_staff
from contracts.models import Contract, Customer
from contracts.services import contract_create, contract_sign, contract_terminate, customer_create

BATCH_SIZE = 500


class Command(BaseCommand):
    help = _(
        "Create demo staff logins and demo customers and contracts (through the services), "
        "then run billing. Deterministic for a seed; running it again adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--contracts", type=int, default=60, help=_("Number of contracts (default 60).")
        )
        parser.add_argument("--seed", type=int, default=1, help=_("Random seed (default 1)."))
        parser.add_argument(
            "--today",
            help=_("Date the data is built around, YYYY-MM-DD (default: today)."),
        )
        parser.add_argument(
            "--set-based",
            action="store_true",
            help=_(
                "Write customers, contracts and fees set-based, a batch at a time, with the "
                "values the services would write (for large books: a million in minutes)."
            ),
        )
        parser.add_argument(
            "--no-bill",
            action="store_true",
            help=_("Do not run billing afterwards (the contracts then have no charges)."),
        )

    def handle(
        self, *args, contracts, seed, today, no_bill, set_based=False, verbosity=1, **options
    ):
        real_today = timezone.localdate()
        try:
            day = dt.date.fromisoformat(today) if today else real_today
        except ValueError as exc:
            raise CommandError(
                _("--today must be a date like 2026-01-31, not “%s”.") % today
            ) from exc
        if day > real_today:
            raise CommandError(
                _("--today cannot be after today (%s): contracts cannot be signed in the future.")
                % real_today.isoformat()
            )
        if contracts < 0:
            raise CommandError(_("--contracts must not be negative."))

        logins = demo_staff()
        if set_based:
            created = self._seed_contracts(contracts, seed, day)
        else:
            created = self._create_contracts(contracts, seed, day, show_progress=verbosity >= 1)

        out = self.stdout
        out.write(_("Demo data (seed %(seed)d, today %(today)s)") % {"seed": seed, "today": day})
        out.write(
            _("  customers created: %(new)d, already there: %(old)d")
            % {"new": created["customers"], "old": created["customers_existing"]}
        )
        out.write(
            _("  contracts created: %(new)d, already there: %(old)d")
            % {"new": created["contracts"], "old": created["contracts_existing"]}
        )
        out.write(
            _("  time: %(seconds).2fs (%(rate).1f contracts/s)")
            % {
                "seconds": created["seconds"],
                "rate": created["contracts"] / created["seconds"] if created["seconds"] else 0,
            }
        )
        out.write(_("Demo logins (demo only: change these passwords before any real use):"))
        for line in logins:
            out.write("  " + line)
        if not no_bill:
            call_command("bill", "--date", day.isoformat(), stdout=self.stdout, verbosity=verbosity)
            # Collection, reconciliation and the risk rules live above contracts: called
            # by name, like the billing run.
            commands = ("demo_collection", "demo_reconciliation", "risk_evaluate", "demo_portal")
            for command in commands:
                call_command(
                    command, "--date", day.isoformat(), stdout=self.stdout, verbosity=verbosity
                )

    @staticmethod
    def _seed_contracts(count: int, seed: int, today: dt.date) -> dict:
        started = time.monotonic()
        stats = demo_seed(demo_plan(count=count, seed=seed, today=today))
        return {
            "customers": stats.customers,
            "customers_existing": stats.customers_existing,
            "contracts": stats.contracts,
            "contracts_existing": stats.contracts_existing,
            "seconds": time.monotonic() - started,
        }

    def _create_contracts(
        self, count: int, seed: int, today: dt.date, *, show_progress: bool
    ) -> dict:
        started = time.monotonic()
        plan = list(demo_plan(count=count, seed=seed, today=today))
        stats = dict.fromkeys(
            ("customers", "customers_existing", "contracts", "contracts_existing"), 0
        )
        customers: dict[str, Customer] = {}
        for first in range(0, len(plan), BATCH_SIZE):
            batch = plan[first : first + BATCH_SIZE]
            with transaction.atomic():
                existing = set(
                    Contract.objects.filter(number__in=[s.number for s in batch]).values_list(
                        "number", flat=True
                    )
                )
                missing_codes = {s.customer.code for s in batch} - customers.keys()
                found = Customer.objects.in_bulk(missing_codes, field_name="code")
                stats["customers_existing"] += len(found)
                customers.update(found)
                for spec in batch:
                    if spec.number in existing:
                        stats["contracts_existing"] += 1
                        continue
                    customer = customers.get(spec.customer.code)
                    if customer is None:
                        c = spec.customer
                        customer = customer_create(
                            code=c.code,
                            name=c.name,
                            email=c.email,
                            currency=c.currency,
                            credit_code=c.credit_code,
                        )
                        customers[c.code] = customer
                        stats["customers"] += 1
                    self._create_contract(spec, customer)
                    stats["contracts"] += 1
            if show_progress:
                done = first + len(batch)
                self.stderr.write(
                    "\r"
                    + _("  demo contracts: %(done)d / %(total)d")
                    % {"done": done, "total": len(plan)},
                    ending="",
                )
                self.stderr.flush()
        if show_progress and plan:
            self.stderr.write("")
        stats["seconds"] = time.monotonic() - started
        return stats

    @staticmethod
    def _create_contract(spec: ContractSpec, customer: Customer) -> None:
        contract = contract_create(
            customer=customer,
            number=spec.number,
            currency=spec.customer.currency,
            service_start=spec.service_start,
            service_end=spec.service_end,
            alignment=spec.alignment,
            proration=spec.proration,
            payment_method=spec.payment_method,
            fees=spec.fees,
        )
        if spec.signed_on is not None:
            # the billing run below creates the charges, as the nightly run would
            contract = contract_sign(contract=contract, signed_on=spec.signed_on, bill_now=False)
        if spec.terminate_on is not None:
            contract_terminate(contract=contract, end_date=spec.terminate_on)
