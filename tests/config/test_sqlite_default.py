"""The embedded default `make run` uses (SQLite) takes concurrent writes: approvers signing and
contributors updating items at the same moment all succeed, none fails "database is locked".

The suite's database is PostgreSQL, so this runs the app's own settings in a subprocess on a
fresh SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.db import connection

assert connection.vendor == "sqlite", connection.vendor
call_command("migrate", verbosity=0)

from django.contrib.auth.models import Group
from approvals import services as approval_services
from releases import services as release_services
from releases.models import ProjectMembership
from tests.concurrency import at_once
from tests.factories import MembershipFactory, ProjectFactory, UserFactory, in_days

WORKERS = 8
project = ProjectFactory()
manager = UserFactory(username="manager")
MembershipFactory(project=project, user=manager, role=ProjectMembership.Role.ADMIN)
qa = Group.objects.get(name="QA")
approvers = [UserFactory(username=f"qa{n}", roles=["QA"]) for n in range(WORKERS)]
workers = [UserFactory(username=f"dev{n}") for n in range(WORKERS)]
for user in approvers + workers:
    MembershipFactory(project=project, user=user)
release = release_services.release_create(
    actor=manager, project=project, name="Concurrent", go_live_at=in_days(10), rollback_plan="Redeploy."
)
signed = [
    approval_services.item_create(release=release, actor=manager, title=f"Signed {n}", approver_role=qa)
    for n in range(WORKERS)
]
for item in signed:
    approval_services.item_update(item=item, actor=manager, state="done")
worked = [
    approval_services.item_create(release=release, actor=manager, title=f"Worked {n}", assignee=workers[n])
    for n in range(WORKERS)
]
calls = [
    lambda n=n: approval_services.signoff_grant(item=signed[n], actor=approvers[n], decision="approve")
    for n in range(WORKERS)
] + [
    lambda n=n: approval_services.item_update(
        item=worked[n], actor=workers[n], state="done", evidence_url=f"https://ci.example.com/{n}"
    )
    for n in range(WORKERS)
]
errors = [f"{type(r).__name__}: {r}" for r in at_once(*calls, timeout=120) if isinstance(r, Exception)]
from approvals.models import ChecklistItem, SignOff
print(json.dumps({
    "errors": errors,
    "signoffs": SignOff.objects.filter(item__release=release).count(),
    "done": ChecklistItem.objects.filter(release=release, state="done").count(),
    "journal": connection.cursor().execute("PRAGMA journal_mode").fetchone()[0],
}))
"""


def test_the_sqlite_default_takes_concurrent_writes(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"errors": [], "signoffs": 8, "done": 16, "journal": "wal"}
