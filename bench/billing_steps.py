"""The billing benchmark's timed steps: one run in this process, the audit's cost,
and two runs in two processes at once."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.billing_book import charge_count, last_ids  # noqa: E402
from bench.common import (  # noqa: E402
    counted_statements,
    first_of_month,
    on_the_day,
    peak_memory_mb,
    reset_peak_memory,
    setup_django,
)


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
    setup_django()
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
