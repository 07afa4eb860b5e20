"""The benchmark's data, bulk-loaded the way the services would leave it (sign-off status
and readiness stored through approvals.services.status, which check_readiness verifies)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Any

RELEASES = int(os.environ.get("BENCH_RELEASES", "2000"))
ITEMS_PER_RELEASE = int(os.environ.get("BENCH_ITEMS", "50"))
CHECKLIST_ITEMS = int(os.environ.get("BENCH_CHECKLIST_ITEMS", "500"))
SIGNOFFS_PER_ITEM = 3


@dataclass
class Data:
    manager: Any
    token: str
    approvers: list[Any]
    checklist: Any  # CHECKLIST_ITEMS items, SIGNOFFS_PER_ITEM sign-offs each
    whole: dict[int, Any] = field(default_factory=dict)  # size -> release
    signing: dict[int, Any] = field(default_factory=dict)  # size -> release with items waiting for sign-off
    queries: dict[int, Any] = field(default_factory=dict)  # size -> release (query counts)


def _items(release: Any, count: int, *, qa: Any, contributor: Any, quorum: int = 2) -> list[Any]:
    """A pattern of what happens to items: every second one done, the others open, blocked
    or not applicable; all assigned and due around the go-live."""
    from approvals.models import ChecklistItem

    now = dt.datetime.now(dt.UTC)
    states = ["done", "open", "done", "blocked", "done", "not_applicable"]
    out = []
    for n in range(count):
        state = states[n % len(states)]
        out.append(
            ChecklistItem(
                release=release,
                section=f"Section {n // 25}",
                title=f"Item {n}",
                guidance="Check it as the runbook says.",
                category="functional_testing",
                approver_role=qa,
                required_signoffs=quorum,
                state=state,
                assignee=contributor,
                completed_by=contributor if state in ("done", "not_applicable") else None,
                completed_at=now if state in ("done", "not_applicable") else None,
                completion_seq=1 if state in ("done", "not_applicable") else 0,
                justification="Not this time." if state == "not_applicable" else "",
                blocked_reason="Waiting for staging." if state == "blocked" else "",
                evidence_url="https://ci.example.com/build/1" if state == "done" else "",
                due_at=now + dt.timedelta(days=(n % 20) - 5),
                order=n,
            )
        )
    return out


def _signoffs(items: list[Any], approvers: list[Any], qa: Any, per_item: int) -> list[Any]:
    """`per_item` sign-offs on each finished item: approvals, every third one stale (an
    earlier revision), every seventh revoked."""
    from approvals.models import SignOff

    now = dt.datetime.now(dt.UTC)
    out = []
    for item in items:
        if item.state not in ("done", "not_applicable"):
            continue
        for k, approver in enumerate(approvers[:per_item]):
            revoked = (item.order + k) % 7 == 0
            out.append(
                SignOff(
                    item=item,
                    approver=approver,
                    signed_by=approver,
                    role=qa,
                    decision="approve",
                    item_revision=0 if (item.order + k) % 3 == 0 else 1,
                    completion_seq=1,
                    revoked_at=now if revoked else None,
                    revoked_reason="Signed the wrong item." if revoked else "",
                )
            )
    return out


def build() -> Data:
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from approvals.models import ChecklistItem, SignOff
    from approvals.services.status import status_store_all
    from releases import permissions
    from releases.models import Release
    from releases.scenario import Scenario

    qa = Group.objects.get(name="QA")
    # The people and the project as the app makes them; the volume below is bulk-inserted.
    scenario = Scenario(password="x")
    scenario.person("admin", staff=True, superuser=True)
    manager, contributor = scenario.person("manager"), scenario.person("contributor")
    approvers = [scenario.person(f"qa{n}", roles=["QA"]) for n in range(4)]
    project = scenario.project("Bench", "bench", admins=[manager], members=[contributor, *approvers])
    go_live = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)

    def releases(names: list[str]) -> list[Release]:
        made = Release.objects.bulk_create(
            Release(
                project=project, name=name, version="1.0", state="in_progress", go_live_at=go_live, rollback_plan="x"
            )
            for name in names
        )
        for release in made[:200]:  # managers are object permissions: give a good share some
            permissions.grant_manage(manager, release)
        return made

    batch: list[ChecklistItem] = []

    def flush() -> None:
        SignOff.objects.bulk_create(_signoffs(ChecklistItem.objects.bulk_create(batch), approvers, qa, 2))
        batch.clear()

    for release in releases([f"Release {n}" for n in range(RELEASES)]):
        batch.extend(_items(release, ITEMS_PER_RELEASE, qa=qa, contributor=contributor))
        if len(batch) > 20000:
            flush()
    flush()
    checklist, *others = releases(["Checklist", "Whole 200", "Whole 2000", "Sign 20", "Sign 2000", "Q 5", "Q 500"])
    items = ChecklistItem.objects.bulk_create(_items(checklist, CHECKLIST_ITEMS, qa=qa, contributor=contributor))
    SignOff.objects.bulk_create(_signoffs(items, approvers, qa, SIGNOFFS_PER_ITEM))
    data = Data(manager=manager, token="", approvers=approvers, checklist=checklist)
    for release, size in zip(others[:2], (200, 2000), strict=True):
        done = ChecklistItem.objects.bulk_create(_items(release, size, qa=qa, contributor=contributor))
        SignOff.objects.bulk_create(_signoffs(done, approvers, qa, 2))
        data.whole[size] = release
    for release, size in zip(others[2:4], (20, 2000), strict=True):
        # every item done and waiting for all four approvers: room for 4 x 20 sign-offs
        rows = _items(release, size, qa=qa, contributor=contributor, quorum=4)
        for row in rows:
            row.state, row.completed_by, row.completion_seq = "done", contributor, 1
            row.evidence_url, row.justification, row.blocked_reason = "https://ci.example.com/build/1", "", ""
        ChecklistItem.objects.bulk_create(rows)
        data.signing[size] = release
    for release, size in zip(others[4:], (5, 500), strict=True):
        done = ChecklistItem.objects.bulk_create(_items(release, size, qa=qa, contributor=contributor))
        SignOff.objects.bulk_create(_signoffs(done, approvers, qa, SIGNOFFS_PER_ITEM))
        data.queries[size] = release
    for release in [checklist, *others]:
        permissions.grant_manage(manager, release)
    status_store_all()
    data.token = Token.objects.create(user=manager).key
    return data
