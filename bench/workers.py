"""Celery worker processes for the benchmarks: started on the benchmark's Redis
broker database with their clock moved to the benchmark's day (as the benchmark's
own process is), listening to the queues a benchmark names; stopped and the broker
emptied afterwards.

Run as a script, this module is one such worker (``--on``, ``--name``, ``--queue``).
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

from bench.common import noon, wait_until  # noqa: E402

BILLING_QUEUE = "bench-billing"
BROKER = "redis://127.0.0.1:6379/15"


def environment() -> None:
    """The broker and queue of the benchmark, for its own process and its workers."""
    os.environ.setdefault("CELERY_BROKER_URL", os.environ.get("BENCH_BROKER_URL", BROKER))
    os.environ["BILLING_QUEUE"] = BILLING_QUEUE
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"


def flush() -> None:
    """Empty the benchmark's broker database: queued chunks and collection tasks."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


def _start(count: int, on: dt.date, queue: str) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--on",
                on.isoformat(),
                "--name",
                f"bench{k}",
                "--queue",
                queue,
            ],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for k in range(1, count + 1)
    ]


def stop(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def alive(workers: list[subprocess.Popen]):
    def check() -> None:
        for worker in workers:
            if worker.poll() is not None:
                raise RuntimeError(
                    f"a worker exited ({worker.returncode}): {worker.stderr.read().decode()}"
                )

    return check


def start(count: int, on: dt.date, queue: str):
    """``count`` workers on ``queue``, returned once each answers a ping; and a check
    that raises if one of them has died."""
    from feemgmt.celery import app

    processes = _start(count, on, queue)
    check = alive(processes)
    try:
        wait_until(lambda: len(app.control.ping(timeout=0.5)) >= count, timeout=120, alive=check)
    except BaseException:
        stop(processes)
        raise
    return processes, check


def _worker(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--on", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--queue", default=BILLING_QUEUE)
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
            args.queue,
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
