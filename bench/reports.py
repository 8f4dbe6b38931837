"""Time every finance report on the book a billing benchmark left behind.

    make bench BENCH=billing CONTRACTS=100000 BENCH_ARGS="--skip-history"
    make bench BENCH=reports

Reads only: the database is not reset. Each report is built as the API's JSON is
(``Report.run`` then ``report_json``) over the whole book up to the last booked
day, once cold and then ``--repeat`` times (the best and the median are printed),
and once filtered to one customer and one currency. The SQL statements of a build
are counted; ``--explain NAME`` prints ``EXPLAIN (ANALYZE, BUFFERS)`` of each
statement of that report. Figures go to bench/results/reports-*.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import database_url, setup_django, write_results  # noqa: E402


def book_size(connection) -> dict:
    with connection.cursor() as cursor:
        sizes = {}
        for label, table in (
            ("contracts", "contracts_contract"),
            ("customers", "contracts_customer"),
            ("charges", "billing_charge"),
            ("journal_entries", "ledger_journalentry"),
            ("journal_lines", "ledger_journalline"),
            ("payment_attempts", "payments_paymentattempt"),
        ):
            cursor.execute(f"SELECT count(*) FROM {table}")
            sizes[label] = cursor.fetchone()[0]
        cursor.execute("SELECT max(effective_on) FROM ledger_journalentry")
        sizes["last_booked_on"] = cursor.fetchone()[0]
    return sizes


def timed_build(report, filters):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.exports import report_json

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        data = report_json(report.run(filters))
        seconds = time.perf_counter() - started
    return seconds, len(data["rows"]), [q["sql"] for q in queries.captured_queries]


def explain(statements: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            print("\n".join(row[0] for row in cursor.fetchall()), end="\n\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="warm builds per report (1 or more)")
    parser.add_argument("--explain", metavar="NAME", action="append", default=[])
    args = parser.parse_args(argv)
    args.repeat = max(args.repeat, 1)
    database_url()
    setup_django()

    from django.db import connection

    from contracts.models import Customer
    from reports.registry import REPORTS, ReportFilters

    size = book_size(connection)
    if not size["charges"]:
        sys.exit("the database holds no charges: run make bench BENCH=billing first")
    print(
        f"book: {size['contracts']:,} contracts, {size['charges']:,} charges, "
        f"{size['journal_lines']:,} journal lines, {size['payment_attempts']:,} attempts; "
        f"reports up to {size['last_booked_on']}",
        flush=True,
    )
    whole = ReportFilters(date_to=size["last_booked_on"])
    one = Customer.objects.order_by("id").values("id", "currency").first()
    narrow = ReportFilters(
        date_to=size["last_booked_on"], customer_id=one["id"], currency=one["currency"]
    )
    results = []
    header = f"{'report':<17}{'rows':>8}{'SQL':>5}{'cold s':>9}{'best s':>9}{'median s':>10}"
    print(header + f"{'1 customer s':>14}")
    for name, report in REPORTS.items():
        cold, rows, statements = timed_build(report, whole)
        warm = [timed_build(report, whole)[0] for _ in range(args.repeat)]
        filtered, filtered_rows, _ = timed_build(report, narrow)
        results.append(
            {
                "report": name,
                "rows": rows,
                "statements": len(statements),
                "cold_s": round(cold, 3),
                "best_s": round(min(warm), 3),
                "median_s": round(statistics.median(warm), 3),
                "one_customer_s": round(filtered, 3),
                "one_customer_rows": filtered_rows,
            }
        )
        print(
            f"{name:<17}{rows:>8,}{len(statements):>5}{cold:>9.3f}{min(warm):>9.3f}"
            f"{statistics.median(warm):>10.3f}{filtered:>14.3f}",
            flush=True,
        )
        if name in args.explain:
            explain(statements)
    path = write_results("reports", {"book": size, "repeat": args.repeat, "reports": results})
    print(f"written to {path}")


if __name__ == "__main__":
    main()
