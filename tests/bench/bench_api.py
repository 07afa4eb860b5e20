"""`make bench`: how the busiest API reads scale, on PostgreSQL.

Builds a database `shipcheck_bench` (dropped and made anew each run) with many releases and
one large checklist, then times the release list and the checklist in-process (server time,
no network), and counts their queries. Prints a table; a benchmark, not a test.

    make bench                     # defaults: 1000 releases of 20 items, a 200-item checklist
    BENCH_RELEASES=5000 make bench
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
BASE_URL = os.environ.get("BENCH_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432")
DB = "shipcheck_bench"
RELEASES = int(os.environ.get("BENCH_RELEASES", "1000"))
ITEMS_PER_RELEASE = int(os.environ.get("BENCH_ITEMS", "20"))
BIG_CHECKLIST = int(os.environ.get("BENCH_BIG_CHECKLIST", "200"))
RUNS = int(os.environ.get("BENCH_RUNS", "15"))


def fresh_database() -> None:
    with psycopg.connect(f"{BASE_URL}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")


def setup_django() -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG=os.environ.get("DEBUG", "1"),
        DATABASE_URL=f"{BASE_URL}/{DB}",
        ALLOWED_HOSTS="testserver",
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build() -> tuple[object, object, int]:
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from approvals.models import ChecklistItem, SignOff
    from releases import permissions
    from releases.models import Project, ProjectMembership, Release

    qa = Group.objects.get(name="QA")
    manager = User.objects.create_user("manager", password="x")
    approvers = [User.objects.create_user(f"qa{n}", password="x") for n in range(3)]
    for user in approvers:
        user.groups.add(qa)
    project = Project.objects.create(name="Bench", slug="bench")
    ProjectMembership.objects.create(project=project, user=manager, role="admin")
    go_live = timezone.now() + dt.timedelta(days=30)
    releases = Release.objects.bulk_create(
        Release(project=project, name=f"Release {n}", version=f"1.{n}", state="in_progress", go_live_at=go_live)
        for n in range(RELEASES)
    )
    for release in releases[:200]:  # managers are object permissions: give a good share some
        permissions.grant_manage(manager, release)

    def items_for(release: Release, count: int) -> list[ChecklistItem]:
        return [
            ChecklistItem(
                release=release,
                title=f"Item {n}",
                category="functional_testing",
                approver_role=qa,
                required_signoffs=2,
                state="done" if n % 2 else "open",
                order=n,
            )
            for n in range(count)
        ]

    def signoffs_for(items: list[ChecklistItem]) -> list[SignOff]:
        """Two approvals on every done item (the quorum), the first of them stale on every third."""
        return [
            SignOff(
                item=item,
                approver=user,
                signed_by=user,
                role=qa,
                decision="approve",
                item_revision=0 if (n == 0 and item.order % 3 == 0) else 1,
                completion_seq=0,
            )
            for item in items
            if item.state == "done"
            for n, user in enumerate(approvers[:2])
        ]

    batch: list[ChecklistItem] = []
    for release in releases:
        batch.extend(items_for(release, ITEMS_PER_RELEASE))
        if len(batch) > 20000:
            SignOff.objects.bulk_create(signoffs_for(ChecklistItem.objects.bulk_create(batch)))
            batch = []
    SignOff.objects.bulk_create(signoffs_for(ChecklistItem.objects.bulk_create(batch)))
    big = Release.objects.create(project=project, name="Big", version="9", state="in_progress", go_live_at=go_live)
    permissions.grant_manage(manager, big)
    items = ChecklistItem.objects.bulk_create(items_for(big, BIG_CHECKLIST))
    SignOff.objects.bulk_create(
        SignOff(
            item=item, approver=user, signed_by=user, role=qa, decision="approve", item_revision=1, completion_seq=0
        )
        for item in items
        if item.state == "done"
        for user in approvers[:2]
    )
    with psycopg.connect(f"{BASE_URL}/{DB}", autocommit=True) as conn:
        conn.execute("ANALYZE")
    return manager, big, len(items)


def measure(client: object, url: str) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    queries = 0
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)  # type: ignore[attr-defined]
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(ctx.captured_queries)
    return statistics.median(times), max(times), queries


def main() -> None:
    fresh_database()
    setup_django()
    started = time.perf_counter()
    manager, big, big_items = build()
    print(
        f"built {RELEASES} releases x {ITEMS_PER_RELEASE} items + a {big_items}-item checklist "
        f"in {time.perf_counter() - started:.1f} s"
    )
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(manager)
    rows = [
        ("release list, page of 50", "/api/v1/releases/?page_size=50"),
        ("release list, page of 200", "/api/v1/releases/?page_size=200"),
        ("release list, filtered by search", "/api/v1/releases/?search=Release%2099"),
        (f"checklist of {big_items} items", f"/api/v1/releases/{big.pk}/items/?page_size=200"),  # type: ignore[attr-defined]
        ("one release", f"/api/v1/releases/{big.pk}/"),  # type: ignore[attr-defined]
    ]
    print(f"{'request':38} {'median ms':>10} {'max ms':>8} {'queries':>8}")
    for name, url in rows:
        median, worst, queries = measure(client, url)
        print(f"{name:38} {median:10.1f} {worst:8.1f} {queries:8d}")


if __name__ == "__main__":
    main()
