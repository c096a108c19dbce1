"""`make bench-search`: order search (GET /v1/orders) at 100,000 orders, beside a primary-key read.

Starts PostgreSQL (or uses OMS_POSTGRES_URL), a broker and one order service process, then fills
its order read model with orders directly through SQL of the same shape as the projection's
Placed handler writes (OrderViews.insert_order: the same columns, the customer's name and e-mail
folded by the same shared.text.fold, the lines' SKUs): COPY in batches, much faster than placing
100,000 orders through the event log. Then it times searches over HTTP, one client at a time:
by e-mail, by SKU, by part of a name (Latin, Cyrillic, Thai, Japanese), by status within 30
days, by the channel's order number, and three cursor pages in a row, each beside a primary-key
lookup of the same table (in SQL and as GET /v1/orders/{id}) from the same run. Figures are
printed, never asserted.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import psycopg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from shared.cli.bench_channels import infrastructure, wait_ready
from shared.cli.client import auth_headers, session_token
from shared.runtime.embedded import database_url, drop_database, ensure_database, free_port
from shared.text import fold, grams

console = Console()
AIM_P99_MS = 50.0
PROJECTION = "order_summary"  # the order service's read model, the one the API searches
BATCH = 2000
SKUS = 5000
STATUSES = (
    ("placed", 10),
    ("confirmed", 30),
    ("shipped", 45),
    ("cancelled", 10),
    ("backordered", 5),
)
PAYMENTS = (("paid", 85), ("pending", 10), ("authorized", 5))
CHANNELS = ("web", "shopify-eu", "amazon-de")
NAMES = {
    "latin": (
        [
            "Ann",
            "Bruno",
            "Chiara",
            "David",
            "Elif",
            "Fatima",
            "Grace",
            "Hugo",
            "Ines",
            "Jonas",
            "Kai",
            "Lena",
            "Marco",
            "Nora",
            "Oskar",
            "Paula",
            "Rahul",
            "Sofia",
            "Tomas",
            "Zoe",
        ],
        [
            "Example",
            "Fischer",
            "Rossi",
            "Garcia",
            "Yilmaz",
            "Haddad",
            "Hopper",
            "Moreau",
            "Silva",
            "Berg",
            "Nakamura",
            "Novak",
            "Bianchi",
            "Lindqvist",
            "Kowalski",
            "Schmidt",
            "Patel",
            "Costa",
            "Horvat",
            "Dubois",
        ],
    ),
    "cyrillic": (
        ["Ольга", "Иван", "Мария", "Дмитрий", "Анна", "Сергей"],
        ["Петрова", "Иванов", "Смирнова", "Кузнецов", "Попова", "Соколов"],
    ),
    "thai": (
        ["สมชาย", "สมศรี", "วิชัย", "มาลี", "ประเสริฐ", "นภา"],
        ["ใจดี", "รักไทย", "ศรีสุข", "บุญมา", "แสงทอง", "วงศ์ใหญ่"],
    ),
    "japanese": (
        ["山田", "佐藤", "鈴木", "高橋", "田中", "伊藤"],
        ["太郎", "花子", "一郎", "美咲", "健太", "由美"],
    ),
}
ADDRESS = {"line1": "Main St 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}
SCRIPTS = (("latin", 70), ("cyrillic", 10), ("thai", 10), ("japanese", 10))
COLUMNS = (
    "order_id, channel, external_id, status, currency, customer, shipping_address, lines,"
    " payment_state, placed_at, updated_at, channel_order_number, customer_name_folded,"
    " customer_email_folded, skus, search_grams"
)


def bench_search(
    orders: Annotated[int, typer.Option(help="Orders in the read model.")] = 100_000,
    runs: Annotated[int, typer.Option(help="Timed requests per kind of search.")] = 200,
    postgres_url: Annotated[
        str | None, typer.Option(envvar="OMS_POSTGRES_URL", help="Use this PostgreSQL server.")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write the figures as JSON.")] = Path(
        "var/bench/search.json"
    ),
) -> None:
    """Fill the order read model, time the searches, print the figures."""
    with (
        infrastructure(postgres_url, "oms-bench-search-") as (server_url, bootstrap),
        _order_service(server_url, bootstrap) as (url, db_url),
    ):
        samples = _fill(db_url, orders)
        figures = _measure(url, db_url, samples, runs)
    figures["settings"] = {"orders": orders, "runs": runs, "cpus": os.cpu_count()}
    _print(figures)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    console.print(f"Figures written to {out}")


@contextmanager
def _order_service(server_url: str, bootstrap: str) -> Iterator[tuple[str, str]]:
    """One order service process on a database of its own; its URL and its database's URL."""
    name = f"bench_search_{int(time.time())}"
    ensure_database(server_url, name)
    db_url = database_url(server_url, name)
    port = free_port()
    env = {
        **os.environ,
        "OMS_ORDERS_DATABASE_URL": db_url,
        "OMS_ORDERS_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "OMS_ORDERS_HTTP_PORT": str(port),
        "OMS_ORDERS_ACCESS_BOOTSTRAP_TOKEN": session_token(),
        "OMS_ORDERS_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    log = Path(tempfile.gettempdir()) / f"{name}.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as sink:
        command = [sys.executable, "-m", "services.order_service"]
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=sink)
    try:
        with console.status("starting the order service..."):
            wait_ready(url, process, log)
            _wait_view_current(db_url, process, log)
        yield url, db_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        drop_database(server_url, name)


def _wait_view_current(db_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the projection has checked its view's version: a rebuild it starts then would
    empty the rows we are about to write."""
    deadline = time.monotonic() + 60
    with psycopg.connect(db_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the order service exited; see {log}")
            found = (
                conn.execute("SELECT 1 FROM pg_tables WHERE tablename = 'view_versions'").fetchone()
                and conn.execute(
                    "SELECT 1 FROM view_versions WHERE projection = %s", (PROJECTION,)
                ).fetchone()
            )
            if found:
                return
            time.sleep(0.2)
    raise RuntimeError(f"the order projection did not start; see {log}")


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _order(rng: random.Random, n: int, start: datetime, step: timedelta) -> tuple[Any, ...]:
    """The n-th order row as the Placed handler writes it (status and payment as later events
    left them), placed `step` after the one before, give or take: rows come in as orders do."""
    script = _weighted(rng, SCRIPTS)
    given, family = NAMES[script]
    first, last = rng.choice(given), rng.choice(family)
    name = f"{first}{last}" if script == "japanese" else f"{first} {last}"
    email = f"Customer{n}.{rng.choice(NAMES['latin'][1])}@Example.com"
    skus = rng.sample(range(SKUS), rng.randint(1, 4))
    lines = [
        {"sku": f"SKU-{s:05d}", "quantity": rng.randint(1, 3), "unit_price": "1990"} for s in skus
    ]
    address = {**ADDRESS, "name": name}
    placed_at = start + step * (n + rng.uniform(-0.5, 0.5))
    return (
        uuid.uuid4(),
        rng.choice(CHANNELS),
        f"EXT-{n}",
        _weighted(rng, STATUSES),
        "EUR",
        json.dumps({"name": name, "email": email}),
        json.dumps(address),
        json.dumps(lines),
        _weighted(rng, PAYMENTS),
        placed_at,
        placed_at,
        f"#{1000 + n}",
        fold(name),
        fold(email),
        sorted(line["sku"] for line in lines),
        grams(fold(name), fold(email)),
    )


def _fill(db_url: str, orders: int) -> dict[str, list[Any]]:
    """Write the orders with COPY, BATCH a transaction; then what the searches will look for."""
    rng = random.Random(2026)
    step = timedelta(days=365) / orders  # a year of orders
    first = datetime.now(UTC) - timedelta(days=365)
    copy = f"COPY order_view ({COLUMNS}) FROM STDIN"
    columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with (
        psycopg.connect(db_url) as conn,
        Progress(*Progress.get_default_columns()[:1], *columns, console=console) as progress,
    ):
        task = progress.add_task("filling the order read model", total=orders)
        for start in range(0, orders, BATCH):
            with conn.cursor() as curs, curs.copy(copy) as writer:
                for n in range(start, min(start + BATCH, orders)):
                    writer.write_row(_order(rng, n, first, step))
            conn.commit()
            progress.advance(task, min(BATCH, orders - start))
    with (
        console.status("VACUUM ANALYZE (as autovacuum would after such a load)..."),
        psycopg.connect(db_url, autocommit=True) as conn,
    ):
        conn.execute("VACUUM ANALYZE order_view")
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT order_id, customer->>'email', customer->>'name', channel_order_number"
            " FROM order_view TABLESAMPLE SYSTEM (5) LIMIT 2000"
        ).fetchall()
    return {
        "ids": [r[0] for r in rows],
        "emails": [r[1] for r in rows],
        "names": [r[2] for r in rows],
        "numbers": [r[3] for r in rows],
    }


def _part(rng: random.Random, script: str, length: int) -> str:
    """`length` characters of a given or family name of one script ('ossi', '山田'), as ops
    type a name they half remember."""
    word = rng.choice(rng.choice(NAMES[script]))
    start = rng.randint(0, max(0, len(word) - length))
    return word[start : start + length]


def _across(rng: random.Random) -> str:
    """Four characters across the space of a Latin name ('a Ro'): each word's piece is too
    short to narrow a trigram index much, the slow case of q."""
    given, family = NAMES["latin"]
    return f"{rng.choice(given)[-rng.randint(1, 2) :]} {rng.choice(family)[:2]}"[-4:]


def _measure(url: str, db_url: str, samples: dict[str, list[Any]], runs: int) -> dict[str, Any]:
    """Each kind of search `runs` times, in turns, so a slow moment hits every kind alike."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    kinds: dict[str, Callable[[], dict[str, Any]]] = {
        "by e-mail, other case": lambda: {"email": rng.choice(samples["emails"]).upper()},
        "by SKU": lambda: {"sku": f"SKU-{rng.randrange(SKUS):05d}"},
        "q: part of a Latin name (4)": lambda: {"q": _part(rng, "latin", 4)},
        "q: Latin, across the space (4)": lambda: {"q": _across(rng)},
        "q: part of a Cyrillic name (4)": lambda: {"q": _part(rng, "cyrillic", 4).upper()},
        "q: part of a Thai name (4)": lambda: {"q": _part(rng, "thai", 4)},
        "q: Japanese family name (2)": lambda: {"q": _part(rng, "japanese", 2)},
        "q: channel order number": lambda: {"q": rng.choice(samples["numbers"])},
        "status + 30 days": lambda: _window(rng, now),
    }
    latencies: dict[str, list[float]] = {kind: [] for kind in kinds}
    latencies |= {"3 cursor pages (each page)": [], "3 cursor pages, status (each page)": []}
    baseline: dict[str, list[float]] = {"SQL: SELECT by order_id": [], "GET /v1/orders/{id}": []}
    counts: dict[str, list[int]] = {kind: [] for kind in latencies}
    with (
        httpx.Client(base_url=url, timeout=30, headers=auth_headers(session_token())) as http,
        psycopg.connect(db_url, autocommit=True) as conn,
        Progress(console=console, transient=True) as progress,
    ):
        for _ in range(20):  # warm the connections and the caches
            http.get("/v1/orders", params={"limit": 50})
        task = progress.add_task("searching", total=runs)
        for _ in range(runs):
            for kind, params in kinds.items():
                _timed(http, params(), latencies[kind], counts[kind])
            _pages(http, {}, latencies["3 cursor pages (each page)"])
            status = {"status": rng.choice(("confirmed", "shipped"))}
            _pages(http, status, latencies["3 cursor pages, status (each page)"])
            order_id = rng.choice(samples["ids"])
            started = time.perf_counter()
            conn.execute("SELECT * FROM order_view WHERE order_id = %s", (order_id,)).fetchall()
            baseline["SQL: SELECT by order_id"].append(time.perf_counter() - started)
            started = time.perf_counter()
            http.get(f"/v1/orders/{order_id}").raise_for_status()
            baseline["GET /v1/orders/{id}"].append(time.perf_counter() - started)
            progress.advance(task)
    return {
        "search_ms": {kind: _percentiles(s) for kind, s in latencies.items()},
        "found_median": {k: statistics.median(c) for k, c in counts.items() if c},
        "baseline_ms": {kind: _percentiles(s) for kind, s in baseline.items()},
    }


def _window(rng: random.Random, now: datetime) -> dict[str, Any]:
    start = now - timedelta(days=rng.uniform(30, 365))
    return {
        "status": rng.choice(("confirmed", "shipped", "cancelled")),
        "placed_from": start.isoformat(),
        "placed_to": (start + timedelta(days=30)).isoformat(),
    }


def _timed(http: httpx.Client, params: dict[str, Any], into: list[float], n: list[int]) -> None:
    started = time.perf_counter()
    answer = http.get("/v1/orders", params={**params, "limit": 50})
    into.append(time.perf_counter() - started)
    answer.raise_for_status()
    n.append(len(answer.json()["data"]))


def _pages(http: httpx.Client, params: dict[str, Any], into: list[float]) -> None:
    """Three pages of 50 in a row, each timed, following next_cursor."""
    after: dict[str, str] = {}
    for _ in range(3):
        started = time.perf_counter()
        answer = http.get("/v1/orders", params={**params, **after, "limit": 50})
        into.append(time.perf_counter() - started)
        answer.raise_for_status()
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return
        after = {"cursor": cursor}


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return {
        "p50": round(cuts[49], 1),
        "p95": round(cuts[94], 1),
        "p99": round(cuts[98], 1),
        "max": round(ms[-1], 1),
    }


def _print(figures: dict[str, Any]) -> None:
    settings = figures["settings"]
    table = Table(title=f"Order search at {settings['orders']:,} orders (one client, HTTP)")
    for column in ("request", "p50 ms", "p95 ms", "p99 ms", "max ms", "found (median)"):
        table.add_column(column, justify="left" if column == "request" else "right")
    for kind, cut in figures["search_ms"].items():
        p99 = f"[{'green' if cut['p99'] < AIM_P99_MS else 'red'}]{cut['p99']}[/]"
        found = figures["found_median"].get(kind, "")
        table.add_row(kind, str(cut["p50"]), str(cut["p95"]), p99, str(cut["max"]), str(found))
    table.add_section()
    for kind, cut in figures["baseline_ms"].items():
        cuts = [str(cut[name]) for name in ("p50", "p95", "p99", "max")]
        table.add_row(f"baseline: {kind}", *cuts, "1")
    console.print(table)
    console.print(
        f"aim: p99 < {AIM_P99_MS:g} ms for every search; {settings['runs']} runs per kind,"
        f" pages of 50; {settings['cpus']} CPUs shared by PostgreSQL, the service and the client"
    )


def main() -> None:
    """Entry point of `python -m shared.cli.bench_search`."""
    typer.run(bench_search)


if __name__ == "__main__":
    main()
