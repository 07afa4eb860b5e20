"""Fixtures and helpers for the API tests (import the fixtures a test module uses).

- api(user): an APIClient authenticated as `user` (None: anonymous).
- world: a release as the API exposes it, with one of everything (a template-made checklist,
  an assigned item done and signed, a phase, a global and a project freeze window, a
  delegation) and the people around it, including a stakeholder from another project.
- db_fingerprint(): every row a write could touch, to prove a refused write changed nothing.
- Row / check_row: one line of a permission table and its check.
- bulk_releases / bulk_items: many valid rows at once, for the query-count tests.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from approvals.models import ChecklistItem, Delegation, SignOff
from approvals.services import checklist_refresh
from checklists.models import ChecklistTemplate, TemplateItem, TemplateSection
from releases.models import (
    AuditEvent,
    FreezeWindow,
    Phase,
    Project,
    ProjectMembership,
    Release,
    ReleaseTemplate,
    ReleaseUserObjectPermission,
)

from .factories import in_days

API = "/api/v1"


def template_item(key: str, title: str, *, role: str | None = "QA", **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "title": title,
        "category": "functional_testing",
        "approver_role": role,
        "required_signoffs": 1 if role else 0,
        "due_offset_days": -1,
        **extra,
    }


MINI = {
    "slug": "api-mini",
    "name": "API mini",
    "sections": [
        {
            "title": "Checks",
            "items": [
                template_item("smoke", "Smoke test passes"),
                template_item("docs", "Docs updated", role=None, category="documentation"),
            ],
        }
    ],
}


def mini_template_data(**changes: Any) -> dict[str, Any]:
    """The small template's data in the exchange format (a fresh copy)."""
    return {**copy.deepcopy(MINI), **changes}


@pytest.fixture
def api(db):
    def client(user: Any = None) -> APIClient:
        c = APIClient()
        if user is not None:
            c.force_authenticate(user)
        return c

    return client


@dataclass
class World:
    project: Project
    other_project: Project
    release: Release
    template: ChecklistTemplate
    item: ChecklistItem
    signoff: SignOff
    phase: Phase
    global_window: FreezeWindow
    project_window: FreezeWindow
    delegation: Delegation
    users: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        users = self.__dict__.get("users", {})
        if name in users:
            return users[name]
        raise AttributeError(name)

    def ids(self) -> dict[str, int]:
        """Placeholders for paths and bodies: {release}, {item}, {qa}, ..."""
        objects = {
            "project": self.project,
            "other_project": self.other_project,
            "release": self.release,
            "template": self.template,
            "item": self.item,
            "signoff": self.signoff,
            "phase": self.phase,
            "global_window": self.global_window,
            "project_window": self.project_window,
            "delegation": self.delegation,
            **self.users,
        }
        return {name: obj.pk for name, obj in objects.items()}


@pytest.fixture
def world(scenario, project, manager, contributor, qa, qa2, security, outsider, staff):
    """An in-progress release of `project`, made from the small template, and its people:
    manager, contributor (assignee of `item`), qa (signed `item` off), qa2, security,
    stakeholder (a plain member of another project, follows the release), outsider, staff."""
    template = scenario.custom_template(mini_template_data())
    release = scenario.create(
        project,
        "Billing",
        "2.0",
        [template],
        go_live_at=in_days(10),
        rollback_plan="Redeploy 1.9 from tag v1.9.",
    )
    release = scenario.start(release)
    stakeholder = scenario.person("stakeholder")
    other_project = scenario.project("Payments", "payments", members=[stakeholder])
    release = scenario.update(release, stakeholders=[stakeholder])
    item = scenario.add_item(
        release,
        "Regression tests",
        category="functional_testing",
        role="QA",
        required_signoffs=1,
        assignee=contributor,
    )
    item = scenario.work_item(item, evidence_url="https://ci.example.com/build/1")
    signoff = scenario.signoff(item, qa)
    phase = scenario.phase(release, "Staging", production=False)
    global_window = scenario.freeze("Year-end freeze", starts_at=in_days(100), ends_at=in_days(101))
    project_window = scenario.freeze("Billing migration", project=project, starts_at=in_days(200), ends_at=in_days(201))
    delegation = scenario.delegate(qa, qa2, "QA", starts_at=timezone.now() - dt.timedelta(hours=1), ends_at=in_days(5))
    return World(
        project=project,
        other_project=other_project,
        release=release,
        template=template,
        item=item,
        signoff=signoff,
        phase=phase,
        global_window=global_window,
        project_window=project_window,
        delegation=delegation,
        users={
            "manager": manager,
            "contributor": contributor,
            "qa": qa,
            "qa2": qa2,
            "security": security,
            "stakeholder": stakeholder,
            "outsider": outsider,
            "staff": staff,
        },
    )


# --- refused writes change nothing ---------------------------------------------------------

FINGERPRINTED = (
    Project,
    ProjectMembership,
    Release,
    Release.stakeholders.through,
    ReleaseUserObjectPermission,
    ReleaseTemplate,
    Phase,
    FreezeWindow,
    ChecklistItem,
    SignOff,
    Delegation,
    ChecklistTemplate,
    TemplateSection,
    TemplateItem,
    AuditEvent,
)


def db_fingerprint() -> dict[str, list[tuple[Any, ...]]]:
    """Every column of every row a write could touch (updated_at included)."""
    return {model._meta.label: list(model.objects.order_by("pk").values_list()) for model in FINGERPRINTED}


# --- permission tables ---------------------------------------------------------------------

Expect = int | tuple[int, str]


@dataclass(frozen=True)
class Row:
    """One request of a permission table: what each kind of user gets for it.

    `path` and string values in `body` take placeholders from World.ids(); `body` may be a
    function that makes it; an expectation is a status code or (status, error code)."""

    name: str
    method: str
    path: str
    body: Any = None
    outsider: Expect = 404
    stakeholder: Expect = 403
    multipart: bool = False

    @property
    def writes(self) -> bool:
        return self.method != "get"

    def __str__(self) -> str:
        return self.name


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if callable(value):  # made fresh for each request (an uploaded file is read once)
        value = value()
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def send(client: APIClient, row: Row, world: World) -> Any:
    ids = world.ids()
    path = API + row.path.format(**ids)
    body = _fill(row.body, ids)
    kwargs: dict[str, Any] = {"format": "multipart" if row.multipart else "json"}
    if body is not None:
        kwargs["data"] = body
    return getattr(client, row.method)(path, **kwargs)


def check_row(client: APIClient, row: Row, world: World, expect: Expect) -> Any:
    """Send the row's request; assert the status (and error code), and that a refused write
    changed nothing."""
    status, code = (expect, None) if isinstance(expect, int) else expect
    before = db_fingerprint() if row.writes else None
    response = send(client, row, world)
    assert response.status_code == status, (row.name, response.status_code, getattr(response, "data", None))
    if code is not None:
        assert response.data["code"] == code, (row.name, response.data)
    if status == 404:
        assert response.data == {"detail": response.data["detail"], "code": "not_found"}
    if before is not None and status >= 400:
        assert db_fingerprint() == before, f"{row.name}: a refused write changed the database"
    return response


# --- query counts --------------------------------------------------------------------------


def count_queries(client: APIClient, path: str) -> tuple[int, Any]:
    """The number of queries a GET costs, and its response. Counted on a second request: the
    first in a process also reads what is read once (the permission ids, config.sqlcache),
    so a test's count would depend on the tests run before it (random order)."""
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, response.data
    return len(ctx.captured_queries), response


def _perm(codename: str) -> Permission:
    return Permission.objects.get(codename=codename, content_type__app_label="releases")


def bulk_releases(
    *,
    project: Project,
    count: int,
    managers: list[Any],
    stakeholders: list[Any],
    templates: list[ChecklistTemplate],
    contributor: Any,
    approvers: list[Any],
    start: int = 0,
) -> list[Release]:
    """`count` in-progress releases, as the services would leave them: managers hold
    manage_release, stakeholders view_release, two phases, the templates applied, and a few
    items (one done and signed) each."""
    now = timezone.now()
    releases = Release.objects.bulk_create(
        [
            Release(
                project=project,
                name=f"Release {start + i}",
                version=f"1.{start + i}",
                state=Release.State.IN_PROGRESS,
                state_changed_at=now,
                go_live_at=now + dt.timedelta(days=10 + i),
                rollback_plan="Redeploy the previous tag.",
                flags=["customer_facing"],
                stakeholder_emails=["ops@example.com"],
                created_by=managers[0],
            )
            for i in range(count)
        ]
    )
    manage, view = _perm("manage_release"), _perm("view_release")
    ReleaseUserObjectPermission.objects.bulk_create(
        [ReleaseUserObjectPermission(permission=manage, user=u, content_object=r) for r in releases for u in managers]
        + [
            ReleaseUserObjectPermission(permission=view, user=u, content_object=r)
            for r in releases
            for u in stakeholders
        ]
    )
    through = Release.stakeholders.through
    through.objects.bulk_create([through(release_id=r.pk, user_id=u.pk) for r in releases for u in stakeholders])
    Phase.objects.bulk_create(
        [
            Phase(release=r, name=name, order=order, production=production)
            for r in releases
            for order, (name, production) in enumerate((("Staging", False), ("Production", True)), start=1)
        ]
    )
    ReleaseTemplate.objects.bulk_create(
        [ReleaseTemplate(release=r, template=t, slug=t.slug) for r in releases for t in templates]
    )
    for release in releases:
        bulk_items(release=release, count=3, contributor=contributor, approvers=approvers)
    return releases


def bulk_items(*, release: Release, count: int, contributor: Any, approvers: list[Any]) -> list[ChecklistItem]:
    """`count` more items on the release, each with sign-offs, in a repeating pattern of what
    happens to items (assigned to and done by `contributor`):

    0. done, revision 2: a valid approval, a stale one (revision 1) and a revoked one;
    1. done, revision 2: only a stale approval;
    2. in progress after a rejection (which stands), and an older revoked approval;
    3. done, needs two approvals and has them.

    Needs three approvers holding the QA role."""
    qa = Group.objects.get(name="QA")
    now = timezone.now()
    base = release.items.count()
    items = []
    for i in range(count):
        kind = (base + i) % 4
        item = ChecklistItem(
            release=release,
            section="Checks",
            order=base + i + 1,
            title=f"Check {base + i + 1}",
            category="functional_testing",
            approver_role=qa,
            required_signoffs=2 if kind == 3 else 1,
            assignee=contributor,
            due_at=now + dt.timedelta(days=(i % 9) - 4),
            is_adhoc=True,
            state=ChecklistItem.State.DONE,
            completed_by=contributor,
            completed_at=now,
            completion_seq=1,
            evidence_url="https://ci.example.com/build/1",
            revision=1 if kind == 3 else 2,
        )
        if kind == 2:
            item.state, item.completed_by, item.completed_at = ChecklistItem.State.IN_PROGRESS, None, None
        items.append(item)
    items = ChecklistItem.objects.bulk_create(items)
    first, second, third = approvers[:3]
    signoffs = []
    for i, item in enumerate(items):
        kind = (base + i) % 4

        def signoff(approver: Any, decision: str = "approve", revision: int = 2, **extra: Any) -> SignOff:
            return SignOff(
                item=item,
                approver=approver,
                signed_by=approver,
                role=qa,
                decision=decision,
                item_revision=revision,
                completion_seq=1,
                **extra,
            )

        signoffs += {
            0: lambda: [
                signoff(first),
                signoff(second, revision=1),
                signoff(third, revoked_at=now, revoked_reason="Signed the wrong item."),
            ],
            1: lambda: [signoff(first, revision=1)],
            2: lambda: [
                signoff(first, revision=1, revoked_at=now, revoked_reason="Too early."),
                signoff(second, "reject", revision=1, comment="The report is missing."),
            ],
            3: lambda: [signoff(first, revision=1), signoff(second, revision=1)],
        }[kind]()
    SignOff.objects.bulk_create(signoffs)
    checklist_refresh(release=release)  # the stored status, as the services keep it
    return items


def routes_of(items: list[Any]) -> set[str]:
    """URL patterns or table rows, as comparable route shapes ("releases/<>/items/")."""
    import re

    shapes = set()
    for item in items:
        route = item.path.lstrip("/").split("?")[0] if isinstance(item, Row) else str(item.pattern)
        shapes.add(re.sub(r"<[^>]+>|\{[^}]+\}", "<>", route))
    return shapes
