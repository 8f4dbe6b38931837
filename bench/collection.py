"""Benchmark of collection through the sandbox gateway on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/feemgmt_collect_bench \\
        .venv/bin/python bench/collection.py --charges 10000

It drops and re-creates the database named in DATABASE_URL (which must end in
``_bench``), migrates, and seeds N customers, each with one active contract paid
through the sandbox gateway and one monthly fee in whole yuan (whole amounts are the
sandbox's ordinary case: paid at once), written set-based; the billing run bills the
first month without handing the charges to collection. Then:

  (a) the first ``--sample`` charges are collected in this process by the collection
      task: SQL statements and commits per charge, the costliest statements, and
      whether any gateway call was made inside a database transaction;
  (b) the rest of the month is handed over by the sweep (``payments.sweep``, tasks of
      100 charges on Redis) to one Celery worker process;
  (c) the next month is billed (N charges) and handed over to two worker processes.

Each worker collects one task at a time (``--pool=solo``). Prints charges/s and
writes JSON to bench/results/. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    database_url,
    first_of_month,
    on_the_day,
    peak_memory_mb,
    reset_database,
    seed_monthly_book,
    setup_django,
    wait_until,
    write_results,
)
from bench.workers import environment, flush, start, stop  # noqa: E402


def collectable(on: dt.date) -> bool:
    from payments.services.collection import collectable_charge_ids

    return bool(collectable_charge_ids(on=on, limit=1))


def in_process(on: dt.date, sample: int) -> dict:
    """Collect ``sample`` charges here, counting statements and watching the gateway."""
    from django.db import connection

    from billing.models import Charge
    from payments.adapters import get_adapter
    from payments.services.collection import collectable_charge_ids
    from payments.tasks import COLLECT_CHUNK, collect_charges_task

    ids = collectable_charge_ids(on=on, limit=sample)
    chunks = [ids[start : start + COLLECT_CHUNK] for start in range(0, len(ids), COLLECT_CHUNK)]
    adapter_class = type(get_adapter("sandbox"))
    real_collect = adapter_class.collect
    calls = {"inside": 0, "outside": 0}

    def watched(self, request):
        calls["inside" if connection.in_atomic_block else "outside"] += 1
        return real_collect(self, request)

    by_statement: dict[str, list] = {}
    commits = 0

    def count(execute, sql, params, many, context):
        nonlocal commits
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            head = " ".join(sql.split()[:5])[:80]
            if head.startswith("RELEASE SAVEPOINT") or head.startswith("SAVEPOINT"):
                head = head.split('"')[0]
            spent = by_statement.setdefault(head, [0, 0.0])
            spent[0] += 1
            spent[1] += time.perf_counter() - began

    real_commit = connection.commit

    def counted_commit():
        nonlocal commits
        commits += 1
        return real_commit()

    adapter_class.collect = watched
    connection.commit = counted_commit
    try:
        with on_the_day(on), connection.execute_wrapper(count):
            started = time.perf_counter()
            outcomes: dict[str, int] = {}
            for chunk in chunks:  # as the sweep hands them to workers
                done = collect_charges_task.apply(args=(chunk, on.isoformat())).get()
                for outcome, n in done.items():
                    outcomes[outcome] = outcomes.get(outcome, 0) + n
            seconds = time.perf_counter() - started
    finally:
        adapter_class.collect = real_collect
        del connection.commit
    paid = Charge.objects.filter(pk__in=ids, status="paid").count()
    statements = sum(n for n, _s in by_statement.values())
    return {
        "step": "(a) in this process",
        "charges": len(ids),
        "paid": paid,
        "outcomes": outcomes,
        "seconds": seconds,
        "charges_per_second": len(ids) / seconds if seconds else 0.0,
        "statements_per_charge": round(statements / len(ids), 1),
        "gateway_calls_inside_a_transaction": calls["inside"],
        "gateway_calls_outside": calls["outside"],
        "costliest": [
            {"statement": head, "count": n, "seconds": round(s, 3)}
            for head, (n, s) in sorted(by_statement.items(), key=lambda kv: -kv[1][1])[:12]
        ],
        "commits": commits,
    }


def receipts_sent() -> int:
    from payments.models import SentNotice

    return SentNotice.objects.filter(kind="receipt").count()


def by_workers(on: dt.date, workers: int, label: str) -> dict:
    """Hand every collectable charge of ``on`` to ``workers`` worker processes."""
    from billing.models import Charge
    from payments.tasks import collection_sweep_task

    flush()
    processes, alive = start(workers, on, "celery")
    try:
        paid_before = Charge.objects.filter(status="paid").count()
        sent_before = receipts_sent()
        started = time.perf_counter()
        with on_the_day(on):
            handed = collection_sweep_task.apply(args=(on.isoformat(),)).get()
        queued = time.perf_counter() - started
        wait_until(lambda: not collectable(on), timeout=7200, every=0.1, alive=alive)
        seconds = time.perf_counter() - started
        paid = Charge.objects.filter(status="paid").count() - paid_before
        # the receipts are tasks of their own, queued after each batch commits
        wait_until(
            lambda: receipts_sent() - sent_before >= paid, timeout=7200, every=0.1, alive=alive
        )
        with_receipts = time.perf_counter() - started
        peaks = [round(peak_memory_mb(p.pid)) for p in processes]
    finally:
        stop(processes)
        flush()
    return {
        "step": label,
        "workers": workers,
        "charges": handed,
        "paid": paid,
        "seconds": seconds,
        "queued_seconds": queued,
        "charges_per_second": handed / seconds if seconds else 0.0,
        "seconds_with_receipts": with_receipts,
        "receipts_per_second": paid / with_receipts if with_receipts else 0.0,
        "worker_peak_rss_mb": peaks,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--charges", type=int, default=10000)
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    url = database_url()
    name = reset_database(url)
    environment()
    os.environ["PAYMENT_COLLECT_AFTER_BILLING"] = "false"  # the sweep hands them over
    setup_django()
    import logging

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    logging.getLogger("payments").setLevel(logging.ERROR)
    print(f"database {name} re-created; migrating", flush=True)
    call_command("migrate", verbosity=0)
    month = first_of_month(timezone.localdate(), 0)
    started = time.perf_counter()
    seed_monthly_book(
        args.charges, random.Random(args.seed), start=month, payment_method="sandbox", whole=True
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded and billed {args.charges} contracts in {time.perf_counter() - started:.1f}s")

    steps = [in_process(month, args.sample)]
    print("(b) collecting the rest through 1 worker", flush=True)
    steps.append(by_workers(month, 1, "(b) 1 worker"))
    following = first_of_month(month, 1)
    from billing.services import billing_run

    with on_the_day(following):
        billing_run(on=following)
    print("(c) the next month through 2 workers", flush=True)
    steps.append(by_workers(following, 2, "(c) 2 workers"))

    print()
    print(
        f"{'step':<22} {'charges':>8} {'paid':>8} {'seconds':>8} {'charges/s':>10} "
        f"{'+receipts s':>12} {'peak MB':>9}"
    )
    for step in steps:
        peak = "+".join(map(str, step.get("worker_peak_rss_mb", []))) or "-"
        receipts = step.get("seconds_with_receipts")
        receipts = f"{receipts:.2f}" if receipts is not None else "queued"
        print(
            f"{step['step']:<22} {step['charges']:>8} {step['paid']:>8} {step['seconds']:>8.2f} "
            f"{step['charges_per_second']:>10.0f} {receipts:>12} {peak:>9}"
        )
    sample = steps[0]
    print()
    print(
        f"(a) {sample['statements_per_charge']} SQL statements and "
        f"{sample['commits'] / sample['charges']:.2f} commits per charge; gateway calls inside "
        f"a database transaction: {sample['gateway_calls_inside_a_transaction']} of "
        f"{sample['gateway_calls_inside_a_transaction'] + sample['gateway_calls_outside']}"
    )
    print("(a) costliest statements (count, seconds):")
    for row in sample["costliest"]:
        print(f"    {row['count']:>6} {row['seconds']:7.3f}  {row['statement']}")
    one, two = steps[1]["charges_per_second"], steps[2]["charges_per_second"]
    print(f"2 workers against 1: {two / one:.2f}x")
    path = write_results(f"collection-{args.charges}", {"charges": args.charges, "steps": steps})
    print(f"results in {path.relative_to(ROOT)}; the database {name} is left in place")


if __name__ == "__main__":
    main()
