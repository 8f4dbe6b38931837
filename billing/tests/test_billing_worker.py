"""The nightly billing run as production runs it: beat's task on a real broker
(Redis), fanned out into chunk tasks that a real Celery worker executes."""

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.db import connection

from billing.models import Charge
from billing.tasks import billing_run_task
from contracts.tests.factories import make_contract

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def worker():
    """A Celery worker process on the configured broker (Redis in CI, the file
    broker otherwise), reading and writing this test's PostgreSQL database."""
    from feemgmt.celery import app

    app.control.purge()  # leftovers of an earlier run must not reach this database
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "feemgmt",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_beat_task_fans_out_to_a_real_worker(worker, settings):
    settings.BILLING_CHUNK_SIZE = 4
    with time_machine.travel(dt.datetime(2026, 1, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))):
        for _ in range(10):
            make_contract(service_start=dt.date(2026, 2, 1), signed_on=dt.date(2026, 1, 1))

    chunks = billing_run_task.apply(args=("2026-04-01",)).get()  # beat's entry, run here
    assert chunks == 3  # 10 fees in chunks of 4: the chunk tasks go to the worker

    deadline = time.monotonic() + 60
    while Charge.objects.count() < 30 and time.monotonic() < deadline:
        assert worker.poll() is None, worker.stdout.read().decode()
        time.sleep(0.3)
    assert Charge.objects.count() == 30  # Feb, Mar, Apr for each contract
