"""The book the API benchmark reads: about 1,000,000 charges, loaded set-based.

Used by ``bench/api.py``. The contracts are written by ``demo_data --set-based
--no-bill`` with the clock moved back a year, then the billing run catches up on
today, as it would on a book imported a year ago: every charge is the billing run's
own row (with its ledger entry and audit event). Charges due more than two months
ago are then marked paid by one UPDATE, so that the status filter has something
to select; the ledger does not follow that shortcut (this database is for reading
lists, not for collection).
"""

from __future__ import annotations

import datetime as dt
import time

from bench.common import load_demo_book, on_the_day

PAID_AFTER_DAYS = 60


def seed(contracts: int, seed: int, catch_up_days: int) -> dict:
    """Load ``contracts`` demo contracts as of ``catch_up_days`` ago and bill them up
    to today. Returns the counts and how long each step took."""
    from django.db import connection
    from django.utils import timezone

    from billing.models import Charge
    from billing.services import billing_run
    from contracts.models import Contract

    today = timezone.localdate()
    load_day = today - dt.timedelta(days=catch_up_days)
    loaded = load_demo_book(contracts, seed, load_day)
    print(f"  {Contract.objects.count()} contracts loaded in {loaded:.1f}s", flush=True)

    started = time.perf_counter()
    with on_the_day(today):
        result = billing_run(on=today)
    billed = time.perf_counter() - started
    print(f"  {result.charges_created} charges billed in {billed:.1f}s", flush=True)

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_charge SET status = 'paid', next_attempt_on = NULL "
            "WHERE due_date < %s AND status = 'pending'",
            [today - dt.timedelta(days=PAID_AFTER_DAYS)],
        )
        paid = cursor.rowcount
    return {
        "contracts": Contract.objects.count(),
        "charges": Charge.objects.count(),
        "paid": paid,
        "load_seconds": round(loaded, 1),
        "billing_seconds": round(billed, 1),
    }


def vacuum_analyze() -> None:
    """What autovacuum would have done by the time anyone lists the charges: the
    visibility map (index-only scans) and the planner's statistics."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in (
            "billing_charge",
            "contracts_contract",
            "contracts_customer",
            "contracts_fee",
        ):
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def bench_user() -> tuple[str, str]:
    """A superuser for the benchmark: its API token and a logged-in session key."""
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from rest_framework.authtoken.models import Token

    user_model = get_user_model()
    user, _created = user_model.objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    token, _created = Token.objects.get_or_create(user=user)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return token.key, session.session_key
