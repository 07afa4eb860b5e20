"""The embedded default `make run` uses (SQLite) takes concurrent writes: approvers signing and
contributors updating items at the same moment all succeed, none fails "database is locked"
(tests/embedded.py runs it on a fresh SQLite file)."""

from __future__ import annotations

from tests.embedded import run_embedded

SCRIPT = r"""
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
    outcome = run_embedded(SCRIPT, tmp_path)
    assert outcome == {"errors": [], "signoffs": 8, "done": 16, "journal": "wal"}
