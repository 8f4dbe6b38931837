"""Benchmark of the API lists and the admin changelists at a million charges.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/feemgmt_api_bench \\
        .venv/bin/python bench/api.py

It drops and re-creates the database named in DATABASE_URL (which must end in
``_bench``), migrates and loads about 1,000,000 charges (``bench/api_seed.py``);
``--reuse`` keeps a database an earlier run loaded and only migrates it. Then it
starts gunicorn (2 workers, loopback) with ``bench/api_settings.py`` (the
project's settings and URLs, plus bare views returning the same rows with
``.values()``) and loads every list from a separate process with ``wrk``,
bounded in time, next to its bare view. It prints a table and writes JSON to
bench/results/. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# New charges would otherwise be handed to collection (a Celery task per chunk).
os.environ["PAYMENT_COLLECT_AFTER_BILLING"] = "false"

from bench.common import database_url as _database_url  # noqa: E402
from bench.common import reset_database  # noqa: E402
from bench.common import setup_django as _setup_django  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=82_000, help="about 12 charges each")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--catch-up-days", type=int, default=365)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded database")
    parser.add_argument("--seed-only", action="store_true", help="load, then stop")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per list")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--deep-pages", type=int, default=500)
    args = parser.parse_args(argv)

    url = _database_url()
    if not args.reuse:
        name = reset_database(url)
        print(f"database {name} re-created", flush=True)
    _setup_django()
    from django.core.management import call_command

    from bench import api_seed

    call_command("migrate", verbosity=0)
    loaded = None
    if not args.reuse:
        print(f"loading {args.contracts} contracts and billing a year of them", flush=True)
        loaded = api_seed.seed(args.contracts, args.seed, args.catch_up_days)
        print(f"  {loaded}", flush=True)
    api_seed.vacuum_analyze()
    if args.seed_only:
        return
    from bench import api_load

    api_load.run(args, url, loaded)


if __name__ == "__main__":
    main()
