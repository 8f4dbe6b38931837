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
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        sys.exit(
            "DATABASE_URL must point to PostgreSQL, e.g. postgres://postgres@127.0.0.1:5432/feemgmt_bench"
        )
    if not name.endswith("_bench"):
        sys.exit(f"Refusing to run: database {name!r} does not end in '_bench' (it is dropped).")
    return url


def reset_database(url: str) -> str:
    """Drop and create the benchmark database, connected to the ``postgres`` database."""
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    connection = psycopg2.connect(
        dbname="postgres",
        user=parts.username or None,
        password=parts.password or None,
        host=parts.hostname or None,
        port=parts.port or None,
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()
    return name


def _setup_django() -> None:
    import logging

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "feemgmt.settings")
    django.setup()
    logging.getLogger("billing").setLevel(logging.WARNING)


def first_of_month(day: dt.date, months_ahead: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 + months_ahead, 12)
    return dt.date(year, month + 1, 1)


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


def on_the_day(on: dt.date):
    """The clock at noon of ``on`` in the billing time zone (running): billing refuses
    a date after today, so the runs for next month happen on their day."""
    from zoneinfo import ZoneInfo

    import time_machine
    from django.conf import settings

    moment = dt.datetime.combine(on, dt.time(12), tzinfo=ZoneInfo(settings.TIME_ZONE))
    return time_machine.travel(moment, tick=True)


def timed_run(label: str, on: dt.date, chunk_size: int | None) -> dict:
    from billing.services import billing_run

    before = charge_count()
    probe = ChunkQueryProbe()
    with on_the_day(on):
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
        f"{'chunks':>6} {'seconds':>8} {'charges/s':>10} {'queries/chunk':>14}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        rate = row["charges"] / row["seconds"] if row["seconds"] and row["charges"] else 0
        rate_text = f"{rate:.0f}" if row["chunks"] is not None else "-"
        queries = (
            f"{row['queries']} ({row['chunk_fees']} fees)" if row["queries"] is not None else "-"
        )
        contracts = "-" if row["contracts"] is None else row["contracts"]
        chunks = "-" if row["chunks"] is None else row["chunks"]
        print(
            f"{row['step']:<32} {row['on'].isoformat():<10} {contracts:>9} {row['fees']:>7} "
            f"{row['charges']:>8} {chunks:>6} {row['seconds']:>8.2f} {rate_text:>10} {queries:>14}"
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
    args = parser.parse_args(argv)

    url = _database_url()
    name = reset_database(url)
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
    rows = [
        load_demo_data(args.contracts, args.seed, load_day, services=args.load_through_services)
    ]
    print(flush=True)
    rows.append(timed_run("(a) catch-up run for today", today, chunk_size))
    rows.append(timed_run("(b) same run again", today, chunk_size))
    assert rows[-1]["charges"] == 0, "a repeated run created charges"
    rows.append(timed_run("(c) 1st of next month", first_of_month(today, 1), chunk_size))
    concurrent = concurrent_runs(
        first_of_month(today, 2), chunk_size, without_audit=args.without_audit
    )
    rows.append(concurrent)
    cost = None
    if args.audit_months and not args.without_audit:
        cost = audit_cost(first_of_month(today, 3), args.audit_months, chunk_size)
    duplicates = duplicate_charges()

    print()
    print_table(rows)
    print()
    load = rows[0]
    print(
        f"{load['step']}: {load['contracts']} contracts in {load['seconds']:.1f}s "
        f"({load['contracts'] / load['seconds']:.1f} contracts/s), "
        f"{load['charges']} charges before the first run"
    )
    print(f"charges in the database: {charge_count()}")
    print(f"(d) wall time {concurrent['seconds']:.2f}s; each process:")
    for number, process in enumerate(concurrent["by_process"], 1):
        print(
            f"    process {number}: {process['charges']} charges created, "
            f"{process['fees']} fees locked, {process['chunks']} chunks, "
            f"{process['seconds']:.2f}s"
        )
    if cost:
        print(
            f"(e) audit cost over {cost['months']} monthly runs, alternately with and without "
            f"the billing.chunk events: {cost['with_audit']} vs {cost['without_audit']} "
            f"charges/s, {cost['cost_percent']}% slower with them"
        )
    print(f"duplicate (fee, period_start) pairs: {duplicates}")
    assert duplicates == 0, "some (fee, period_start) was charged twice"
    print("OK: no charge was created twice")


if __name__ == "__main__":
    main()
