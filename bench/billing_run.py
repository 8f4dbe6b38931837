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
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.billing_book import (  # noqa: E402
    analyze,
    charge_count,
    duplicate_charges,
    load_demo_data,
    skip_history,
)
from bench.billing_copy import copy_floor  # noqa: E402
from bench.billing_steps import (  # noqa: E402
    _without_audit,
    audit_cost,
    concurrent_runs,
    timed_run,
)
from bench.billing_workers import environment, fan_out_run  # noqa: E402
from bench.common import (  # noqa: E402
    database_url,
    first_of_month,
    peak_memory_mb,
    reset_database,
    reset_peak_memory,
    setup_django,
    write_results,
)


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

    url = database_url()
    name = reset_database(url)
    environment()  # the Celery broker and billing queue, before Django reads its settings
    setup_django()
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
