"""`make bench`: the busiest API reads and a sign-off, each against its floor, on PostgreSQL.

Builds a database `shipcheck_bench` (dropped and made anew each run; tests/bench/build.py;
`BENCH_DATABASE` names another, so that two people measure at once), then serves requests
in-process through the whole stack (middleware, token authentication, DRF) and times them,
interleaved with their floors so that both see the same machine:

- the checklist (a page of 200 of a 500-item release with 1,500 sign-offs) and one release,
  each against the same rows fetched with hand-written SQL and serialised with `json`
  (tests/bench/raw.py);
- the release list (a page of 50 of 2,000 releases of 50 items) against a bare Django view,
  in-process and over HTTP under gunicorn, and under it two floors (tests/bench/urls.py): an
  authenticated DRF view that does nothing, and that view running the list's own queries;
- reading a whole 2,000-item checklist, page by page, against a 200-item one;
- a sign-off on a 2,000-item release against one on a 20-item release;
- the queries the checklist and a release cost with 5 and with 500 items;
- a PDF readiness report of the 500-item release against WeasyPrint alone on the same HTML,
  with its time and peak memory (tests/bench/bench_report.py).

It prints a table with each ratio and its limit, then the same reads with PostgreSQL's JIT
on and off (the setting config/settings.py chooses). A benchmark, not a test: it measures,
and says "over" where a limit is not met.

    make bench                       # the sizes above
    BENCH_RUNS=50 make bench         # more runs per measurement
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
BASE_URL = os.environ.get("BENCH_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_DATABASE", "shipcheck_bench")
RUNS = int(os.environ.get("BENCH_RUNS", "30"))
API = "/api/v1"


def fresh_database() -> None:
    with psycopg.connect(f"{BASE_URL}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")


def setup_django() -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        SECRET_KEY="bench-only",
        DATABASE_URL=f"{BASE_URL}/{DB}",
        ALLOWED_HOSTS="testserver,127.0.0.1",
        # Pages name their static files; the bench serves none (no collectstatic needed).
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ROOT_URLCONF = "tests.bench.urls"
    call_command("migrate", verbosity=0)


def timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


class Client:
    """Requests through the whole stack, authenticated as an API client would be (token)."""

    def __init__(self, token: str) -> None:
        from django.test import Client as DjangoClient

        self.client = DjangoClient(HTTP_AUTHORIZATION=f"Token {token}")

    def get(self, path: str) -> Any:
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        return response

    def post(self, path: str, data: dict[str, Any]) -> Any:
        response = self.client.post(path, data, content_type="application/json")
        assert response.status_code == 201, (path, response.status_code, response.content[:300])
        return response

    def pages(self, path: str) -> int:
        """Read every page of a list; returns how many rows."""
        rows = 0
        while path:
            body = self.get(path).json()
            rows += len(body["results"])
            path = body["next"]
        return rows


@contextlib.contextmanager
def served() -> Iterator[Callable[[str], bytes]]:
    """The app under gunicorn (one sync worker, as in production), and a GET over HTTP."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "tests.bench.wsgi",
            "-w",
            "1",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    token = os.environ["BENCH_TOKEN"]

    def get(path: str) -> bytes:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", path, headers={"Authorization": f"Token {token}"})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        assert response.status == 200, (path, response.status, body[:300])
        return body

    try:
        for _ in range(100):
            assert proc.poll() is None, "gunicorn did not start"
            try:
                get("/healthz")
                break
            except OSError:
                time.sleep(0.1)
        yield get
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def queries(call: Callable[[], Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        call()
    return len(ctx.captured_queries)


def pair(target: Callable[[], Any], floor: Callable[[], Any]) -> tuple[float, float]:
    """Medians of the two, measured alternately (after one warm-up each)."""
    target(), floor()
    a, b = [], []
    for _ in range(RUNS):
        a.append(timed(target))
        b.append(timed(floor))
    return statistics.median(a), statistics.median(b)


def list_floors(client: Client, release_list: str, row: Callable[..., None]) -> None:
    """What the release list cannot do without, each against the bare view: the API's
    token authentication in a DRF view that does nothing, and that view running the list's
    own queries (as one request sent them) and fetching their rows, with no rows built and
    nothing serialised. Neither is the list; they show where its floor is."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.bench.urls import LIST_SQL

    with CaptureQueriesContext(connection) as ctx:
        client.get(release_list)
    LIST_SQL[:] = [q["sql"] for q in ctx.captured_queries if "authtoken_token" not in q["sql"]]
    bare = lambda: client.get("/bench/bare/")  # noqa: E731
    row("  floor: authenticated DRF view, nothing else / bare Django view", 0,
        pair(lambda: client.get("/bench/authenticated/"), bare), "not the list: its floor")  # fmt: skip
    row(f"  floor: that view + the list's {len(LIST_SQL)} queries, rows fetched / bare", 0,
        pair(lambda: client.get("/bench/list-queries/"), bare), "not the list: its floor")  # fmt: skip


def signing(data: Any) -> tuple[float, float]:
    """A sign-off by the next approver on the next item, on the big and the small release
    alternately; each item takes four."""
    from rest_framework.authtoken.models import Token

    clients = {u.pk: Client(Token.objects.get_or_create(user=u)[0].key) for u in data.approvers}
    slots = {
        size: [(item, user) for user in data.approvers for item in release.items.order_by("order")[:20]]
        for size, release in data.signing.items()
    }

    def sign(size: int) -> Callable[[], Any]:
        def call() -> Any:
            item, user = slots[size].pop()
            return clients[user.pk].post(f"{API}/items/{item.pk}/signoffs/", {"decision": "approve"})

        return call

    big, small = sign(2000), sign(20)
    runs = min(RUNS, len(slots[20]) - 1)
    big(), small()
    a, b = [], []
    for _ in range(runs):
        a.append(timed(big))
        b.append(timed(small))
    return statistics.median(a), statistics.median(b)


def pages(data: Any, row: Callable[..., None]) -> None:
    """The browser's pages, server-rendered, as the release manager (signed in by session):
    the release page of the 500-item checklist against the raw fetch of the same rows (the
    release and all its items with their sign-offs), the dashboard and the release list
    against the bare view."""
    from django.test import Client as DjangoClient

    from tests.bench import raw
    from tests.bench.build import CHECKLIST_ITEMS

    browser = DjangoClient()
    browser.force_login(data.manager)

    def get(path: str) -> Callable[[], Any]:
        def call() -> Any:
            response = browser.get(path)
            assert response.status_code == 200, (path, response.status_code)
            return response

        return call

    def raw_release_page() -> Any:
        return raw.release_detail(data.checklist.pk), raw.checklist_page(data.checklist.pk, page_size=500)

    row(f"release page (HTML, {CHECKLIST_ITEMS} items) / raw SQL + json", 5,
        pair(get(f"/releases/{data.checklist.pk}/"), raw_release_page))  # fmt: skip
    row("dashboard page (HTML) / bare Django view", 0, pair(get("/"), get("/bench/bare/")), "goal: none set")
    row("release list page (HTML) / bare Django view", 0, pair(get("/releases/"), get("/bench/bare/")),
        "goal: none set")  # fmt: skip


def jit(setting: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SET jit = {setting}")


def main() -> None:
    fresh_database()
    setup_django()
    from tests.bench import raw
    from tests.bench.build import CHECKLIST_ITEMS, ITEMS_PER_RELEASE, RELEASES, build

    started = time.perf_counter()
    data = build()
    with psycopg.connect(f"{BASE_URL}/{DB}", autocommit=True) as conn:
        conn.execute("ANALYZE")
    print(
        f"built {RELEASES} releases x {ITEMS_PER_RELEASE} items and the rest in {time.perf_counter() - started:.0f} s"
    )
    client = Client(data.token)
    checklist = f"{API}/releases/{data.checklist.pk}/items/?page_size=200"
    detail = f"{API}/releases/{data.checklist.pk}/"
    release_list = f"{API}/releases/?page_size=50"
    rows: list[tuple[str, float, float, float, str]] = []

    def row(name: str, limit: float, medians: tuple[float, float], extra: str = "") -> None:
        rows.append((name, *medians, limit, extra))

    row(
        f"checklist, page of 200 of {CHECKLIST_ITEMS} items / raw SQL + json",
        3,
        pair(lambda: client.get(checklist), lambda: raw.checklist_page(data.checklist.pk)),
    )
    row(
        "one release / raw SQL + json",
        3,
        pair(lambda: client.get(detail), lambda: raw.release_detail(data.checklist.pk)),
    )
    list_queries = queries(lambda: client.get(release_list))
    row(
        f"release list, page of 50 of {RELEASES + 7} / bare Django view",
        10,
        pair(lambda: client.get(release_list), lambda: client.get("/bench/bare/")),
        f"{list_queries} queries (limit 8)",
    )
    list_floors(client, release_list, row)
    os.environ["BENCH_TOKEN"] = data.token
    with served() as http_get:
        row(
            "release list over HTTP (gunicorn, 1 worker) / bare Django view",
            10,
            pair(lambda: http_get(release_list), lambda: http_get("/bench/bare/")),
        )
    whole = {size: f"{API}/releases/{release.pk}/items/?page_size=200" for size, release in data.whole.items()}
    assert client.pages(whole[2000]) == 2000
    row(
        "whole checklist, 2000 items / 200 items",
        12,
        pair(lambda: client.pages(whole[2000]), lambda: client.pages(whole[200])),
    )
    row("sign-off, 2000-item release / 20-item release", 1.5, signing(data))
    pages(data, row)

    print(f"\n{'measurement (target / floor)':64} {'target ms':>9} {'floor ms':>9} {'ratio':>6} {'limit':>6}")
    for name, target, floor, limit, extra in rows:
        ratio = target / floor
        verdict = "" if not limit else "ok" if ratio <= limit else "OVER"
        print(f"{name:64} {target:9.2f} {floor:9.2f} {ratio:6.2f} {limit:6.1f}  {verdict} {extra}")

    print("\nqueries with 5 and with 500 items (the same, or the page grows with the data):")
    for name, path in (("checklist", "/releases/{}/items/?page_size=500"), ("one release", "/releases/{}/")):
        counts = {
            size: queries(lambda p=path, r=release: client.get(API + p.format(r.pk)))
            for size, release in data.queries.items()
        }
        verdict = "ok" if counts[5] == counts[500] else "GROWS"
        print(f"  {name:12} 5 items: {counts[5]}, 500 items: {counts[500]}  {verdict}")

    from tests.bench.bench_report import print_report

    print_report(data.checklist.pk, CHECKLIST_ITEMS)

    print("\nPostgreSQL JIT, on / off (median ms):")
    for name, path in (("checklist page", checklist), ("release list", release_list), ("whole 2000", None)):

        def read(p: str | None = path) -> Any:
            return client.get(p) if p else client.pages(whole[2000])

        on_off = []
        for setting in ("on", "off"):
            jit(setting)
            read()
            on_off.append(statistics.median(timed(read) for _ in range(RUNS)))
        print(f"  {name:16} {on_off[0]:8.2f} {on_off[1]:8.2f}")
    jit("default")


if __name__ == "__main__":
    main()
