"""The load half of ``bench/api.py``: gunicorn on loopback, ``wrk`` from outside it.

Each list is first fetched once (it must answer 200 with its rows), warmed for two
seconds, then loaded for ``--duration`` seconds with ``wrk --latency``; its bare
view (``bench/api_urls.py``) the same way right after it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
P99_TARGET_MS = 50.0
RATIO_TARGET = 0.7
WORKERS = 2
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> dict:
    """Requests/s, p50, p90 and p99 (ms) and the non-2xx count of ``wrk --latency``."""
    latency = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)\s*$", output, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket = re.search(r"Socket errors: (.*)$", output, re.M)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "p50_ms": _ms(latency["50"]),
        "p90_ms": _ms(latency["90"]),
        "p99_ms": _ms(latency["99"]),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket.group(1) if socket else "",
    }


class Server:
    """gunicorn with the bench settings, on a loopback port; stopped by its pid."""

    def __init__(self, url: str, port: int):
        self.base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "bench.api_settings",
            "PYTHONPATH": str(ROOT),
        }
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.log = open(RESULTS / "api-gunicorn.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                *(str(gunicorn), "feemgmt.wsgi:application", "--workers", str(WORKERS)),
                *("--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT), "--timeout", "60"),
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{self.base}/bench/bare/contracts/", timeout=5)
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        self.stop()
        sys.exit("gunicorn did not start: see bench/results/api-gunicorn.log")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        self.log.close()


def fetch(url: str, headers: dict) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        assert "login" not in response.geturl(), f"{url}: not logged in"
        return response.status, response.read()


def wrk(url: str, headers: dict, duration: int, connections: int) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=duration + 30
    ).stdout
    return parse_wrk(output)


def _deep_url(base: str, headers: dict, pages: int) -> str:
    """The URL of the page ``pages`` pages down the charge list, by its links."""
    url = f"{base}/api/v1/charges/"
    for _ in range(pages):
        _status, body = fetch(url, headers)
        url = json.loads(body)["next"]
    return url


def _samples() -> dict:
    """A contract with a year of charges and a customer with several contracts."""
    from django.db.models import Count
    from django.utils import timezone

    from billing.models import Charge
    from contracts.models import Contract

    contract = (
        Charge.objects.values("contract_id")
        .annotate(n=Count("id"))
        .filter(n__gte=12)
        .order_by("contract_id")
        .values_list("contract_id", flat=True)[1000]
    )
    customer = (
        Contract.objects.values("customer_id")
        .annotate(n=Count("id"))
        .filter(n__gte=3)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)[100]
    )
    today = timezone.localdate()
    return {
        "contract": contract,
        "customer": customer,
        "after": (today - dt.timedelta(days=30)).isoformat(),
        "before": today.isoformat(),
    }


def cases(base: str, api: dict, admin: dict, deep: str) -> list[tuple]:
    """(name, URL, headers, bare URL): each list next to its bare view."""
    s = _samples()
    status = f"status=pending&due_date_after={s['after']}&due_date_before={s['before']}"
    charges, bare = f"{base}/api/v1/charges/", f"{base}/bench/bare/charges/"
    query = deep.split("?", 1)[1]
    return [
        ("charges", charges, api, bare),
        (f"charges ?contract={s['contract']}", f"{charges}?contract={s['contract']}", api,
         f"{bare}?contract={s['contract']}"),
        ("charges ?status=pending&due range", f"{charges}?{status}", api, f"{bare}?{status}"),
        ("charges, 500 pages down", deep, api, f"{bare}?{query}"),
        (f"charges ?customer={s['customer']}", f"{charges}?customer={s['customer']}", api,
         f"{bare}?customer={s['customer']}"),
        ("contracts", f"{base}/api/v1/contracts/", api, f"{base}/bench/bare/contracts/"),
        ("admin: charges", f"{base}/admin/billing/charge/", admin,
         f"{base}/bench/bare/admin/charges/"),
        ("admin: contracts", f"{base}/admin/contracts/contract/", admin,
         f"{base}/bench/bare/admin/contracts/"),
    ]  # fmt: skip


def measure(name, url, headers, bare, args) -> dict:
    status, body = fetch(url, headers)
    assert status == 200, (name, status)
    if "/api/" in url:
        page = json.loads(body)
        assert page["results"] and "count" not in page, (name, list(page))
    _bare_status, bare_body = fetch(bare, {})
    wrk(url, headers, 2, args.connections)  # warm-up
    measured = wrk(url, headers, args.duration, args.connections)
    wrk(bare, {}, 2, args.connections)
    bare_measured = wrk(bare, {}, args.duration, args.connections)
    assert measured["non_2xx"] == 0 and bare_measured["non_2xx"] == 0, (name, measured)
    return {
        "list": name,
        "url": url.split("127.0.0.1", 1)[1].split("/", 1)[1],
        "bytes": len(body),
        "bare_rows": len(json.loads(bare_body)["results"]),
        **measured,
        "bare": bare_measured,
        "ratio": round(measured["rps"] / bare_measured["rps"], 2),
    }


def print_table(rows: list[dict]) -> None:
    header = (
        f"{'list':<36} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'bare req/s':>10} "
        f"{'bare p99':>8} {'ratio':>5}  targets"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        held = []
        held.append("p99 ok" if row["p99_ms"] < P99_TARGET_MS else "p99 MISSED")
        held.append("ratio ok" if row["ratio"] >= RATIO_TARGET else "ratio MISSED")
        print(
            f"{row['list']:<36} {row['rps']:>7.1f} {row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} "
            f"{row['bare']['rps']:>10.1f} {row['bare']['p99_ms']:>8.2f} {row['ratio']:>5.2f}  "
            + ", ".join(held)
        )


def run(args, url: str, loaded: dict | None) -> None:
    from bench.api_seed import bench_user
    from billing.models import Charge

    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian package wrk; scripts/system-deps.sh)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    token, session = bench_user()
    api = {"Authorization": f"Token {token}"}
    admin = {"Cookie": f"sessionid={session}"}
    charges = Charge.objects.count()
    print(f"{charges} charges; gunicorn with {WORKERS} workers", flush=True)
    server = Server(url, args.port)
    try:
        deep = _deep_url(server.base, api, args.deep_pages)
        rows = []
        for case in cases(server.base, api, admin, deep):
            rows.append(measure(*case, args))
            print(f"  {rows[-1]['list']}: {rows[-1]['rps']:.1f} req/s", flush=True)
    finally:
        server.stop()
    print()
    print_table(rows)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"api-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                "charges": charges,
                "loaded": loaded,
                "workers": WORKERS,
                "wrk": {"threads": 2, "connections": args.connections, "seconds": args.duration},
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "targets": {"p99_ms": P99_TARGET_MS, "ratio": RATIO_TARGET},
                "lists": rows,
            },
            indent=2,
        )
    )
    print(f"\nwritten to {out.relative_to(ROOT)}")
