"""What the benchmarks share: the throw-away database, Django, the clock, memory and
statement counts, and the JSON written to bench/results/."""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import sys
import time
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def database_url() -> str:
    """DATABASE_URL, refused unless it names a PostgreSQL database ending in
    ``_bench`` (the benchmarks drop it)."""
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


def setup_django() -> None:
    import logging

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "feemgmt.settings")
    django.setup()
    logging.getLogger("billing").setLevel(logging.WARNING)


def first_of_month(day: dt.date, months_ahead: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 + months_ahead, 12)
    return dt.date(year, month + 1, 1)


def noon(on: dt.date) -> dt.datetime:
    from zoneinfo import ZoneInfo

    from django.conf import settings

    return dt.datetime.combine(on, dt.time(12), tzinfo=ZoneInfo(settings.TIME_ZONE))


def on_the_day(on: dt.date):
    """The clock at noon of ``on`` in the billing time zone (running): billing refuses
    a date after today, so the runs for next month happen on their day."""
    import time_machine

    return time_machine.travel(noon(on), tick=True)


def load_demo_book(contracts: int, seed: int, load_day: dt.date, *, set_based: bool = True):
    """``manage.py demo_data --no-bill`` for ``contracts`` contracts with the clock at
    ``load_day``: set-based (the rows the services write, a batch at a time) or
    through the services one contract at a time. Returns the seconds it took."""
    import io

    from django.core.management import call_command

    started = time.perf_counter()
    with on_the_day(load_day):
        call_command(
            "demo_data",
            "--contracts",
            str(contracts),
            "--seed",
            str(seed),
            "--today",
            load_day.isoformat(),
            "--no-bill",
            *(["--set-based"] if set_based else []),
            stdout=io.StringIO(),
        )
    return time.perf_counter() - started


# Peak memory of one step: Linux lets a process reset its high-water mark
# (``echo 5 > /proc/self/clear_refs``), so each step reports its own peak, not the
# largest since the process started.
def reset_peak_memory(pid: int | str = "self") -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_memory_mb(pid: int | str = "self") -> float:
    """The resident-set high-water mark in MB (VmHWM; ru_maxrss where /proc is absent)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def counted_statements():
    """Count the SQL statements Django sends inside the block (COPY included, since
    it goes through a cursor too): ``with counted_statements() as counter: ...;
    counter.n``."""
    from django.db import connection

    class Counter:
        n = 0

    counter = Counter()

    def count(execute, sql, params, many, context):
        counter.n += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield counter


def write_results(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(json.dumps(payload, indent=2, default=str, ensure_ascii=False))
    return path


def wait_until(condition, *, timeout: float, every: float = 0.05, alive=None) -> float:
    """Poll ``condition()`` until it is true; returns the seconds waited. ``alive()``
    (optional) raising stops the wait early, e.g. when a worker died."""
    started = time.perf_counter()
    while not condition():
        if alive is not None:
            alive()
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"not done after {timeout:.0f}s")
        time.sleep(every)
    return time.perf_counter() - started


def cents(rng) -> Decimal:
    return Decimal(rng.randrange(50_000, 2_000_000)) / 100


def seed_monthly_book(
    n: int, rng, *, start: dt.date, payment_method: str, whole: bool = False
) -> None:
    """N customers, each with one active contract paid by ``payment_method`` and one
    monthly fee from ``start`` (CNY, 500.00–20,000.00, whole yuan if ``whole``),
    written set-based; then the billing run for ``start`` bills the first month."""
    from django.utils import timezone

    from billing.services import billing_run
    from contracts.models import Contract, Customer, Fee
    from feemgmt.core.sql import insert_rows

    now = timezone.now()
    customers = [
        (f"C{i:07d}", f"客户{i:07d}有限公司", f"c{i}@example.com", "CNY", "", now, now)
        for i in range(n)
    ]
    insert_rows(
        Customer,
        ("code", "name", "email", "currency", "credit_code", "created_at", "updated_at"),
        customers,
    )
    ids = list(Customer.objects.order_by("id").values_list("id", flat=True))
    insert_rows(
        Contract,
        (
            "number",
            "customer_id",
            "currency",
            "service_start",
            "alignment",
            "proration",
            "payment_method",
            "status",
            "signed_on",
            "created_at",
            "updated_at",
        ),
        [
            (
                f"HT{i:08d}",
                cid,
                "CNY",
                start,
                "calendar",
                "daily",
                payment_method,
                "active",
                start,
                now,
                now,
            )
            for i, cid in enumerate(ids)
        ],
    )
    contracts = list(Contract.objects.order_by("id").values_list("id", flat=True))
    insert_rows(
        Fee,
        ("contract_id", "kind", "amount", "amount_currency", "cycle", "treatment", "next_due_date"),
        [
            (
                cid,
                "recurring",
                Decimal(rng.randrange(500, 20_000)) if whole else cents(rng),
                "CNY",
                "monthly",
                "",
                start,
            )
            for cid in contracts
        ],
    )
    with on_the_day(start):
        billing_run(on=start)
