"""The billing run as production runs it: the coordinator (the ``billing.run`` task)
splits the due fees into keyset ranges and queues one ``billing.run_chunk`` task per
range on Redis; N Celery worker processes (``--pool=solo``, one chunk at a time
each) take them. The run is over when no fee is due any more.

The chunk tasks go to a queue of their own (``BILLING_QUEUE``), so these workers take
billing only; the collection tasks the chunks enqueue after commit wait on the default
queue and are emptied afterwards.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import on_the_day, peak_memory_mb, wait_until  # noqa: E402
from bench.workers import BILLING_QUEUE, environment, flush, start, stop  # noqa: E402

__all__ = ["environment", "fan_out_run"]


def fan_out_run(on: dt.date, workers: int) -> dict:
    """Bill ``on`` through the coordinator and ``workers`` worker processes; the wall
    time from queuing the first chunk to the last chunk's commit."""
    import time

    from billing.models import Charge
    from billing.tasks import billing_run_task
    from contracts.models import Fee

    flush()
    processes, alive = start(workers, on, BILLING_QUEUE)
    try:
        before = Charge.objects.count()
        due = Fee.objects.filter(next_due_date__lte=on)
        started = time.perf_counter()
        with on_the_day(on):
            chunks = billing_run_task.apply(args=(on.isoformat(),)).get()
        queued = time.perf_counter() - started
        wait_until(lambda: not due.exists(), timeout=3600, every=0.02, alive=alive)
        seconds = time.perf_counter() - started
        peaks = [round(peak_memory_mb(p.pid)) for p in processes]
    finally:
        stop(processes)
        flush()
    created = Charge.objects.count() - before
    return {
        "step": f"({'f' if workers == 1 else 'g'}) Celery, {workers} worker{'s' * (workers > 1)}",
        "on": on,
        "workers": workers,
        "charges": created,
        "chunks": chunks,
        "seconds": seconds,
        "queued_seconds": queued,
        "charges_per_second": created / seconds if seconds else 0.0,
        "worker_peak_rss_mb": peaks,
    }
