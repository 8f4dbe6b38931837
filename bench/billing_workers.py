"""The billing run as production runs it: the coordinator (the ``billing.run`` task)
splits the due fees into keyset ranges and queues one ``billing.run_chunk`` task per
range on Redis; N Celery worker processes (``--pool=solo``, one chunk at a time
each) take them. The run is over when no fee is due any more.

The chunk tasks go to a queue of their own (``BILLING_QUEUE``), so these workers take
billing only; the collection tasks the chunks enqueue after commit wait on the default
queue and are purged afterwards.

Run as a script, this module is one such worker with its clock moved to the billing
day (``--on``), as the benchmark's own process is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import noon, on_the_day, peak_memory_mb, wait_until  # noqa: E402

QUEUE = "bench-billing"
BROKER = "redis://127.0.0.1:6379/15"


def environment() -> None:
    """The broker and queue of the benchmark, for its own process and its workers."""
    os.environ.setdefault("CELERY_BROKER_URL", os.environ.get("BENCH_BROKER_URL", BROKER))
    os.environ["BILLING_QUEUE"] = QUEUE
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"


def _flush() -> None:
    """Empty the benchmark's broker database: queued chunks and collection tasks."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


def _start(count: int, on: dt.date) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [sys.executable, __file__, "--on", on.isoformat(), "--name", f"bench{k}"],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for k in range(1, count + 1)
    ]


def _stop(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def _alive(workers: list[subprocess.Popen]):
    def check() -> None:
        for worker in workers:
            if worker.poll() is not None:
                raise RuntimeError(
                    f"a worker exited ({worker.returncode}): {worker.stderr.read().decode()}"
                )

    return check


def fan_out_run(on: dt.date, workers: int) -> dict:
    """Bill ``on`` through the coordinator and ``workers`` worker processes; the wall
    time from queuing the first chunk to the last chunk's commit."""
    import time

    from billing.models import Charge
    from billing.tasks import billing_run_task
    from contracts.models import Fee
    from feemgmt.celery import app

    _flush()
    processes = _start(workers, on)
    try:
        alive = _alive(processes)
        wait_until(lambda: len(app.control.ping(timeout=0.5)) >= workers, timeout=120, alive=alive)
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
        _stop(processes)
        _flush()
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


def _worker(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--on", required=True)
    parser.add_argument("--name", required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "feemgmt.settings")
    import time_machine

    time_machine.travel(noon(dt.date.fromisoformat(args.on)), tick=True).start()
    from feemgmt.celery import app

    app.worker_main(
        [
            "worker",
            "--pool=solo",
            "-Q",
            QUEUE,
            "-n",
            f"{args.name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ]
    )


if __name__ == "__main__":
    _worker(sys.argv[1:])
