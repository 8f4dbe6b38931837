"""Benchmark of statement import and matching on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/feemgmt_bench \\
        .venv/bin/python bench/reconcile.py --lines 100000

It drops and re-creates the database named in DATABASE_URL (which must end in
``_bench``), migrates, and seeds N customers with one active bank-transfer contract
each, set-based (multi-row INSERTs of the rows the services would write); the
billing run bills their first month and N payment notices are issued (pending
attempts with their remittance references). Then it writes one bank export (the
corporate CSV layout, GB18030) with N lines — most quoting their reference with the
amount owed, some paying part or more, some without a reference, some nobody's —
and times ``statement_import`` of it end to end: parsing, inserting the lines,
matching, booking, discrepancies and the audit events. It prints a table and writes
JSON to bench/results/. See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import random
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import database_url as _database_url  # noqa: E402
from bench.common import on_the_day, reset_database, seed_monthly_book  # noqa: E402
from bench.common import setup_django as _setup_django  # noqa: E402

START = dt.date(2026, 3, 1)
TODAY = dt.date(2026, 3, 5)


def seed(n: int, rng: random.Random) -> None:
    """N customers, contracts and monthly fees, then billed and noticed."""
    from django.utils import timezone

    from feemgmt.core.sql import insert_rows
    from payments.adapters.bank_transfer import remittance_reference
    from payments.models import PaymentAttempt, attempt_key

    seed_monthly_book(n, rng, start=START, payment_method="bank_transfer")
    now = timezone.now()
    from billing.models import Charge

    charges = Charge.objects.order_by("id").values_list("id", "amount")
    rows = []
    for charge_id, amount in charges.iterator(chunk_size=10_000):
        key = attempt_key(charge_id, 1)
        notice = (charge_id, 1, key, "bank_transfer", amount, "CNY", "pending")
        rows.append((*notice, remittance_reference(key), "", "", "", "", {}, now, now))
    insert_rows(
        PaymentAttempt,
        (
            "charge_id",
            "number",
            "idempotency_key",
            "method",
            "amount",
            "amount_currency",
            "status",
            "provider_reference",
            "error_code",
            "error_message",
            "action_kind",
            "action_value",
            "raw",
            "created_at",
            "updated_at",
        ),
        rows,
    )
    Charge.objects.update(next_attempt_on=None)
    # the planner's statistics, as autovacuum would have gathered them by the time a
    # statement arrives: without them a 100,000-id lookup is planned for one row
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def statement(n: int, rng: random.Random) -> tuple[bytes, dict]:
    """The bank's export of the day: one line per notice, of these kinds."""
    from payments.models import PaymentAttempt
    from reconciliation.demo import BankRow, corporate_export

    mix = {"exact": 0, "partial": 0, "over": 0, "no_reference": 0, "unknown": 0}
    rows = []
    notices = PaymentAttempt.objects.order_by("id").values_list(
        "amount", "provider_reference", "charge__contract__customer__name"
    )
    for index, (amount, reference, payer) in enumerate(notices.iterator(chunk_size=10_000)):
        roll = rng.random()
        purpose = f"管理费 {reference}"
        if roll < 0.90:
            kind = "exact"
        elif roll < 0.93:
            kind, amount = "partial", (amount / 2).quantize(Decimal("0.01"))
        elif roll < 0.95:
            kind, amount = "over", amount + 100
        elif roll < 0.99:
            kind, purpose = "no_reference", "管理费"
        else:
            kind, purpose, payer = "unknown", "货款", "某某贸易"
        mix[kind] += 1
        rows.append(BankRow(TODAY, amount, payer, f"6222{index:015d}", purpose, f"T{index:010d}"))
    data = corporate_export(account="6222020200012345678", holder="示例物业管理有限公司", rows=rows)
    return data, mix


def floor(statement_id: int, account_id: int, entries_after: int) -> dict[str, float]:
    """The same rows the import wrote, written again by the server alone: each table
    copied onto itself by one ``INSERT … SELECT`` (new ids, another account for the
    lines' unique fingerprints, references prefixed) and the charges and attempts
    the import settled moved once more, with every foreign key checked at once —
    no parsing, no matching, no Python per row, no audit. What the database needs
    for these rows on this machine; rolled back afterwards."""
    from django.db import connection, transaction

    from ledger.models import JournalEntry, JournalLine
    from reconciliation.models import BankAccount, Discrepancy, Match, StatementLine

    of_the_statement = (
        "JOIN reconciliation_statementline l ON l.id = t.line_id "
        "WHERE l.statement_id = %(statement)s"
    )
    steps = {
        "statement lines": _onto_itself(
            StatementLine,
            "WHERE t.statement_id = %(statement)s",
            id="t.id + %(lines)s",
            account_id="%(account)s",
        ),
        "matches": _onto_itself(Match, of_the_statement, line_id="t.line_id + %(lines)s"),
        "discrepancies": _onto_itself(
            Discrepancy, of_the_statement, line_id="t.line_id + %(lines)s"
        ),
        "journal entries": _onto_itself(
            JournalEntry,
            "WHERE t.id > %(after)s",
            id="t.id + %(entries)s",
            reference="'floor:' || t.reference",
        ),
        "journal lines": _onto_itself(
            JournalLine, "WHERE t.entry_id > %(after)s", entry_id="t.entry_id + %(entries)s"
        ),
        "charges settled": "UPDATE billing_charge SET status = 'pending', updated_at = now() "
        "WHERE status = 'paid'",
        "attempts succeeded": "UPDATE payments_paymentattempt SET status = 'pending', "
        "decided_at = NULL, updated_at = now() WHERE status = 'succeeded'",
    }
    new_account = _onto_itself(
        BankAccount, "WHERE t.id = %(from)s", code="'floor'", receives_transfers="false"
    )
    spent: dict[str, float] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM reconciliation_statementline")
        (lines,) = cursor.fetchone()
        cursor.execute("SELECT max(id) FROM ledger_journalentry")
        (entries,) = cursor.fetchone()
    params = {"lines": lines, "entries": entries, "after": entries_after}
    params["statement"] = statement_id
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(new_account + " RETURNING id", {"from": account_id})
            (params["account"],) = cursor.fetchone()
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for name, sql in steps.items():
                began = time.perf_counter()
                cursor.execute(sql, params)
                spent[name] = time.perf_counter() - began
            raise _RolledBack
    except _RolledBack:
        pass
    return spent


def _onto_itself(model, where: str, **replaced: str) -> str:
    """INSERT … SELECT of ``model``'s rows (``where``, table alias ``t``) onto its
    own table, columns in ``replaced`` given as SQL expressions; the id is left to
    the table unless replaced."""
    columns = [
        field.column
        for field in model._meta.concrete_fields
        if not field.primary_key or field.column in replaced
    ]
    values = ", ".join(replaced.get(column, f"t.{column}") for column in columns)
    table = model._meta.db_table
    return f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} FROM {table} t {where}"


class _RolledBack(Exception):
    pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-floor", action="store_true", help="skip writing the same rows by SQL alone"
    )
    parser.add_argument("--profile", metavar="PATH", help="write a cProfile of the import to PATH")
    args = parser.parse_args(argv)

    url = _database_url()
    name = reset_database(url)
    # the receipts of the settled charges would otherwise be printed, one per line
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    _setup_django()
    import logging

    from django.core.management import call_command
    from django.db import connection

    logging.getLogger("payments").setLevel(logging.ERROR)
    print(f"database {name} re-created; migrating", flush=True)
    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    started = time.perf_counter()
    seed(args.lines, rng)
    seeded = time.perf_counter() - started
    print(f"seeded {args.lines} customers, contracts, charges and notices in {seeded:.1f}s")

    from reconciliation.models import BankAccount
    from reconciliation.services import statement_import

    account = BankAccount.objects.create(
        code="icbc-cny",
        name="工商银行基本户",
        account_number="6222020200012345678",
        currency="CNY",
        receives_transfers=True,
    )
    data, mix = statement(args.lines, rng)
    from ledger.models import JournalEntry

    entries_before = JournalEntry.objects.order_by("-id").values_list("id", flat=True).first()
    print(f"statement: {len(data) / 1e6:.1f} MB, {mix}", flush=True)
    queries = 0

    by_statement: dict[str, list] = {}

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = by_statement.setdefault(" ".join(sql.split()[:6])[:90], [0, 0.0])
            spent[0] += 1
            spent[1] += time.perf_counter() - began

    with on_the_day(TODAY), connection.execute_wrapper(count):
        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        summary = statement_import(account=account, data=data, filename="bench.csv")
        seconds = time.perf_counter() - started
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "lines": summary.lines_read,
        "new": summary.lines_new,
        "settled": summary.settled,
        "suggested": summary.suggested,
        "unmatched": summary.unmatched,
        "seconds": round(seconds, 2),
        "lines_per_second": round(summary.lines_read / seconds, 1),
        "queries": queries,
        "queries_per_line": round(queries / max(summary.lines_read, 1), 2),
        "peak_rss_mb": round(peak_mb),
        "mix": mix,
    }
    print()
    for key, value in result.items():
        print(f"{key:<18} {value}")
    if not args.no_floor:
        spent = floor(summary.statement, account.pk, entries_before or 0)
        result["floor_seconds"] = round(sum(spent.values()), 2)
        result["floor_steps"] = {name: round(s, 2) for name, s in spent.items()}
        result["ratio_to_floor"] = round(seconds / result["floor_seconds"], 2)
        print("\nthe same rows written by the server alone (seconds):")
        for name, s in spent.items():
            print(f"  {s:7.2f}  {name}")
        ratio = result["ratio_to_floor"]
        print(f"  {result['floor_seconds']:7.2f}  in all; the import took {ratio}x that")
    print("\nslowest statements (count, seconds):")
    for head, (n, spent) in sorted(by_statement.items(), key=lambda kv: -kv[1][1])[:12]:
        print(f"  {n:>6} {spent:7.2f}  {head}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (out / f"reconcile-{args.lines}-{stamp}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
