"""Benchmark of the billing run on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/feemgmt_bench \\
        .venv/bin/python bench/billing_run.py --contracts 10000

It drops and re-creates the database named in DATABASE_URL (which must end in
``_bench``), migrates, and loads demo contracts through the services as if it were
``--catch-up-days`` ago (the clock is moved back with time-machine while loading;
contracts are signed without immediate billing, as a book is imported). Then it times:

  (a) the billing run for today: a cold catch-up of every charge ever due;
  (b) the same run again: nothing left to do;
  (c) the run for the 1st of next month: one period per recurring fee;
  (d) two runs for the 1st of the month after, in two processes started together;

and checks that no (fee, period start) was charged twice. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import multiprocessing
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.billing_copy import copy_floor  # noqa: E402
from bench.billing_workers import environment, fan_out_run  # noqa: E402
from bench.common import (  # noqa: E402
    counted_statements,
    database_url,
    first_of_month,
    on_the_day,
    peak_memory_mb,
    reset_database,
    reset_peak_memory,
    setup_django,
    write_results,
)

# The names other benchmarks import from here.
_database_url, _setup_django = database_url, setup_django
__all__ = ["_database_url", "_setup_django", "on_the_day", "reset_database"]


class ChunkQueryProbe:
    """A billing-run progress callback that counts the SQL queries of one chunk.

    ``billing_run`` calls it after each chunk; capturing from the first call to the
    second covers exactly the second chunk (its id-range query included), a chunk in
    the middle of a run, without slowing the other chunks down.
    """

    def __init__(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self._context = CaptureQueriesContext(connection)
        self.calls = 0
        self.queries: int | None = None
        self.fees_in_chunk = 0
        self._fees_before = 0

    def __call__(self, done: int, total: int, totals) -> None:
        self.calls += 1
        if self.calls == 1:
            self._fees_before = done
            self._context.__enter__()
        elif self.calls == 2:
            self._context.__exit__(None, None, None)
            self.queries = len(self._context.captured_queries)
            self.fees_in_chunk = done - self._fees_before

    def close(self) -> None:
        if self.calls == 1:
            self._context.__exit__(None, None, None)


def charge_count() -> int:
    from billing.models import Charge

    return Charge.objects.count()


def duplicate_charges() -> int:
    """(fee, period start) pairs charged more than once; one-off fees group on NULL."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT fee_id, period_start FROM billing_charge "
            "GROUP BY fee_id, period_start HAVING count(*) > 1) AS twice"
        )
        return cursor.fetchone()[0]


def skip_history(today: dt.date) -> dict:
    """Move every bookmark before ``today`` to the fee's first due date from today on,
    as if another system had billed the book's past: a million contracts can then be
    measured without first catching up on ten million old charges. One-off fees due
    before today are left billed (no bookmark), and the customers billed before have
    their receivable accounts, as that billing would have left them. Batches of
    10,000 fees, each one UPDATE."""
    from django.db import transaction

    from billing import calendar
    from billing.services.run import FEE_COLUMNS
    from contracts.choices import FeeKind
    from contracts.models import Fee
    from feemgmt.core.sql import update_by_id
    from ledger.choices import AccountPurpose
    from ledger.postings.charges import accounts_for_customers

    started = time.perf_counter()
    past = Fee.objects.filter(next_due_date__lt=today).order_by("id")
    moved, batch, accounts = 0, {}, set()
    for row in past.values_list(*FEE_COLUMNS, named=True).iterator(chunk_size=10_000):
        batch[row.id] = None
        accounts.add((row.contract__customer_id, row.amount_currency))
        if row.kind == FeeKind.RECURRING:
            batch[row.id] = calendar.next_due_after(
                cycle=row.cycle,
                alignment=row.contract__alignment,
                service_start=row.contract__service_start,
                service_end=row.contract__service_end,
                after=today - dt.timedelta(days=1),
            )
        if len(batch) == 10_000:
            with transaction.atomic():
                moved += update_by_id(Fee, "next_due_date", batch)
                accounts_for_customers(AccountPurpose.RECEIVABLE, accounts)
            batch, accounts = {}, set()
    with transaction.atomic():
        moved += update_by_id(Fee, "next_due_date", batch)
        accounts_for_customers(AccountPurpose.RECEIVABLE, accounts)
    return {"fees": moved, "seconds": time.perf_counter() - started}


def analyze() -> None:
    """Planner statistics, as autovacuum would have gathered them after the catch-up
    (this machine runs PostgreSQL with autovacuum off): without them a chunk's
    account lookup is planned for a table of a few rows.

    Not before the catch-up: the ledger accounts are still empty then, and a table
    analyzed empty gets its foreign-key checks planned as sequential scans, kept
    while the catch-up fills it (every journal line then scanned every account)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def last_ids() -> tuple[int, int]:
    """The highest charge and journal entry ids: what a step writes comes after them."""
    from billing.models import Charge
    from ledger.models import JournalEntry

    def last(model) -> int:
        return model.objects.order_by("-id").values_list("id", flat=True).first() or 0

    return last(Charge), last(JournalEntry)


def timed_run(label: str, on: dt.date, chunk_size: int | None) -> dict:
    from billing.services import billing_run

    before = charge_count()
    charges_after, entries_after = last_ids()
    probe = ChunkQueryProbe()
    reset_peak_memory()
    with on_the_day(on), counted_statements() as statements:
        started = time.perf_counter()
        result = billing_run(on=on, chunk_size=chunk_size, progress=probe)
        seconds = time.perf_counter() - started
    probe.close()
    created = charge_count() - before
    assert created == result.charges_created, (label, created, result.charges_created)
    return {
        "step": label,
        "on": on,
        "contracts": result.contracts_seen,
        "fees": result.fees_seen,
        "charges": result.charges_created,
        "chunks": result.chunks,
        "seconds": seconds,
        "queries": probe.queries,
        "chunk_fees": probe.fees_in_chunk,
        "statements": statements.n,
        "statements_per_1000_contracts": (
            round(1000 * statements.n / result.contracts_seen, 1) if result.contracts_seen else None
        ),
        "peak_rss_mb": round(peak_memory_mb()),
        "charges_after": charges_after,
        "entries_after": entries_after,
    }


def _without_audit() -> None:
    """The run without its audit events, for the comparison: the chunk's bulk event
    (digest read back, chain lock, insert) replaced by nothing, in this process."""
    import billing.services.run as run

    run.audit_record_bulk = lambda **kwargs: None


def audit_cost(start: dt.date, months: int, chunk_size: int | None) -> dict:
    """The monthly run's throughput with and without its audit events, measured on
    the same database: the months from ``start`` on, billed alternately with and
    without them (month after month, so both see the same kind of month and the same
    table sizes). Returns charges/s of each and the cost of auditing in percent."""
    import billing.services.run as run
    from billing.services import billing_run

    real = run.audit_record_bulk
    totals = {True: [0, 0.0], False: [0, 0.0]}
    try:
        for k in range(months):
            audited = k % 2 == 0
            run.audit_record_bulk = real if audited else (lambda **kwargs: None)
            day = first_of_month(start, k)
            with on_the_day(day):
                result = billing_run(on=day, chunk_size=chunk_size)
            totals[audited][0] += result.charges_created
            totals[audited][1] += result.seconds
    finally:
        run.audit_record_bulk = real
    rate = {key: n / s if s else 0.0 for key, (n, s) in totals.items()}
    return {
        "months": months,
        "with_audit": round(rate[True]),
        "without_audit": round(rate[False]),
        "cost_percent": round(100 * (1 - rate[True] / rate[False]), 1) if rate[False] else None,
    }


def _concurrent_worker(
    on: str, chunk_size: int | None, barrier, results, without_audit: bool = False
) -> None:
    """One of the concurrent runs (a separate process, as two Celery workers are)."""
    _setup_django()
    if without_audit:
        _without_audit()
    from django.db import connection

    from billing.services import billing_run

    connection.ensure_connection()
    day = dt.date.fromisoformat(on)
    with on_the_day(day):
        barrier.wait()
        result = billing_run(on=day, chunk_size=chunk_size)
    results.put(
        {
            "charges": result.charges_created,
            "fees": result.fees_seen,
            "chunks": result.chunks,
            "seconds": result.seconds,
        }
    )
    connection.close()


def concurrent_runs(
    on: dt.date, chunk_size: int | None, processes: int = 2, without_audit: bool = False
) -> dict:
    before = charge_count()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes + 1)
    results = context.Queue()
    workers = [
        context.Process(
            target=_concurrent_worker,
            args=(on.isoformat(), chunk_size, barrier, results, without_audit),
        )
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=120)
    started = time.perf_counter()
    per_process = [results.get(timeout=600) for _ in workers]
    seconds = time.perf_counter() - started
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0, f"a billing process failed (exit code {worker.exitcode})"
    created = charge_count() - before
    assert sum(p["charges"] for p in per_process) == created, (per_process, created)
    return {
        "step": f"(d) {processes} concurrent runs",
        "on": on,
        "contracts": None,
        "fees": max(p["fees"] for p in per_process),
        "charges": created,
        "chunks": max(p["chunks"] for p in per_process),
        "seconds": seconds,
        "queries": None,
        "chunk_fees": 0,
        "by_process": per_process,
    }


def load_demo_data(contracts: int, seed: int, load_day: dt.date, *, services: bool) -> dict:
    """Create the contracts with the clock at ``load_day``: set-based (``demo_data
    --set-based``, the same rows) or through the services one by one."""
    from zoneinfo import ZoneInfo

    import time_machine
    from django.conf import settings
    from django.core.management import call_command

    from contracts.models import Contract, Fee

    moment = dt.datetime.combine(load_day, dt.time(12), tzinfo=ZoneInfo(settings.TIME_ZONE))
    out = io.StringIO()
    started = time.perf_counter()
    with time_machine.travel(moment, tick=True):
        call_command(
            "demo_data",
            "--contracts",
            str(contracts),
            "--seed",
            str(seed),
            "--today",
            load_day.isoformat(),
            "--no-bill",
            *([] if services else ["--set-based"]),
            stdout=out,
        )
    seconds = time.perf_counter() - started
    return {
        "step": "load (services)" if services else "load (set-based)",
        "on": load_day,
        "contracts": Contract.objects.count(),
        "fees": Fee.objects.count(),
        "charges": charge_count(),
        "chunks": None,
        "seconds": seconds,
        "queries": None,
        "chunk_fees": 0,
    }


def print_table(rows: list[dict]) -> None:
    header = (
        f"{'step':<32} {'date':<10} {'contracts':>9} {'fees':>7} {'charges':>8} "
        f"{'chunks':>6} {'seconds':>8} {'charges/s':>10} {'queries/chunk':>15} {'peak MB':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        rate = row["charges"] / row["seconds"] if row["seconds"] and row["charges"] else 0
        rate_text = f"{rate:.0f}" if row.get("chunks") is not None else "-"
        queries = "-"
        if row.get("queries") is not None:
            queries = f"{row['queries']} ({row['chunk_fees']} fees)"
        peak = row.get("peak_rss_mb") or "+".join(map(str, row.get("worker_peak_rss_mb", [])))
        shown = {key: "-" if row.get(key) is None else row[key] for key in row}
        print(
            f"{row['step']:<32} {row['on'].isoformat():<10} {shown.get('contracts', '-'):>9} "
            f"{shown.get('fees', '-'):>7} {row['charges']:>8} {shown.get('chunks', '-'):>6} "
            f"{row['seconds']:>8.2f} {rate_text:>10} {queries:>15} {peak or '-':>8}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--catch-up-days",
        type=int,
        default=365,
        help="how long ago the contracts were loaded; default 365",
    )
    parser.add_argument("--chunk-size", type=int, default=None, help="default: settings")
    parser.add_argument(
        "--load-through-services",
        action="store_true",
        help="load the contracts through the services (about 100/s) instead of set-based",
    )
    parser.add_argument(
        "--without-audit",
        action="store_true",
        help="bill without the billing.chunk audit events (to compare the throughput)",
    )
    parser.add_argument(
        "--audit-months",
        type=int,
        default=12,
        help="(e): monthly runs billed alternately with and without audit events; 0 skips",
    )
    parser.add_argument(
        "--no-celery", action="store_true", help="skip (f) and (g), the runs by Celery workers"
    )
    parser.add_argument(
        "--skip-history",
        action="store_true",
        help="move the bookmarks to today instead of catching up on the book's past "
        "(for 1,000,000 contracts: (a) then bills today only)",
    )
    args = parser.parse_args(argv)

    url = _database_url()
    name = reset_database(url)
    environment()  # the Celery broker and billing queue, before Django reads its settings
    _setup_django()
    if args.without_audit:
        _without_audit()
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    print(f"database {name} re-created; migrating", flush=True)
    call_command("migrate", verbosity=0)
    today = timezone.localdate()
    load_day = today - dt.timedelta(days=args.catch_up_days)
    chunk_size = args.chunk_size or settings.BILLING_CHUNK_SIZE
    print(
        f"loading {args.contracts} demo contracts as of {load_day} "
        f"(seed {args.seed}); billing chunk size {chunk_size}",
        flush=True,
    )
    reset_peak_memory()
    rows = [
        load_demo_data(args.contracts, args.seed, load_day, services=args.load_through_services)
    ]
    rows[0]["peak_rss_mb"] = round(peak_memory_mb())
    print(flush=True)
    if args.skip_history:
        skipped = skip_history(today)
        print(f"history skipped: {skipped['fees']} bookmarks moved in {skipped['seconds']:.1f}s")
    rows.append(timed_run("(a) catch-up run for today", today, chunk_size))
    analyze()
    rows.append(timed_run("(b) same run again", today, chunk_size))
    assert rows[-1]["charges"] == 0, "a repeated run created charges"
    monthly = timed_run("(c) 1st of next month", first_of_month(today, 1), chunk_size)
    rows.append(monthly)
    print("(c) done; writing its rows again by raw COPY", flush=True)
    copy = copy_floor(
        charges_after=monthly["charges_after"], entries_after=monthly["entries_after"]
    )
    assert copy["charges"] == monthly["charges"], (copy, monthly)
    concurrent = concurrent_runs(
        first_of_month(today, 2), chunk_size, without_audit=args.without_audit
    )
    rows.append(concurrent)
    fanned = []
    if not args.no_celery:
        for workers, months_ahead in ((1, 3), (2, 4)):
            print(f"({'fg'[workers - 1]}) billing through {workers} Celery worker(s)", flush=True)
            fanned.append(fan_out_run(first_of_month(today, months_ahead), workers))
        rows += fanned
    cost = None
    if args.audit_months and not args.without_audit:
        cost = audit_cost(first_of_month(today, 5), args.audit_months, chunk_size)
    duplicates = duplicate_charges()

    print()
    print_table(rows)
    print()
    summary = report(rows, monthly, copy, concurrent, fanned, cost)
    print(f"duplicate (fee, period_start) pairs: {duplicates}")
    assert duplicates == 0, "some (fee, period_start) was charged twice"
    path = write_results(
        f"billing-{args.contracts}",
        {"contracts": args.contracts, "chunk_size": chunk_size, "steps": rows, **summary},
    )
    print(f"OK: no charge was created twice; results in {path.relative_to(ROOT)}")
    print(f"the database {name} is left in place")


def report(rows, monthly, copy, concurrent, fanned, cost) -> dict:
    """Print the figures beside the table; return them for the JSON."""
    load = rows[0]
    print(
        f"{load['step']}: {load['contracts']} contracts in {load['seconds']:.1f}s "
        f"({load['contracts'] / load['seconds']:.1f} contracts/s), "
        f"{load['charges']} charges before the first run"
    )
    print(f"charges in the database: {charge_count()}")
    run_rate = monthly["charges"] / monthly["seconds"]
    ratio = run_rate / copy["charges_per_second"]
    print(
        f"(c) against raw COPY of its rows ({copy['charges']} charges, {copy['entries']} "
        f"entries, {copy['lines']} lines) into tables with the same indexes and foreign keys: "
        f"{copy['seconds']:.2f}s = {copy['charges_per_second']:.0f} charges/s; "
        f"the run reaches {ratio:.2f}x that"
    )
    print(f"    COPY seconds per table: {copy['by_table']}")
    print(
        f"(c) {monthly['statements']} SQL statements, "
        f"{monthly['statements_per_1000_contracts']} per 1,000 contracts billed"
    )
    print(f"(d) wall time {concurrent['seconds']:.2f}s; each process:")
    for number, process in enumerate(concurrent["by_process"], 1):
        print(
            f"    process {number}: {process['charges']} charges created, "
            f"{process['fees']} fees locked, {process['chunks']} chunks, "
            f"{process['seconds']:.2f}s"
        )
    speedup = None
    if len(fanned) == 2:
        one, two = (f["charges_per_second"] for f in fanned)
        speedup = two / one if one else None
        print(
            f"(f)/(g) through Celery: {one:.0f} charges/s with 1 worker, {two:.0f} with 2: "
            f"{speedup:.2f}x (coordinator queued its chunks in "
            f"{fanned[0]['queued_seconds']:.2f}s / {fanned[1]['queued_seconds']:.2f}s)"
        )
    if cost:
        print(
            f"(e) audit cost over {cost['months']} monthly runs, alternately with and without "
            f"the billing.chunk events: {cost['with_audit']} vs {cost['without_audit']} "
            f"charges/s, {cost['cost_percent']}% slower with them"
        )
    return {
        "copy": copy,
        "ratio_to_copy": round(ratio, 3),
        "two_workers_speedup": round(speedup, 3) if speedup else None,
        "audit_cost": cost,
    }


if __name__ == "__main__":
    main()
