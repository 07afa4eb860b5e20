"""Contract fuzzing: schemathesis drives every operation of the live OpenAPI schema (served by
the app itself at /api/schema/) through the WSGI application, in-process, and checks that no
answer is a server error, has an undocumented status code or content type, or breaks the
documented response schema. Valid and invalid input both (positive and negative generation,
plus schemathesis' coverage phase: boundary values, missing fields, other methods).

Each operation runs as its own test against a fresh set of real objects (`world`); hooks swap
generated ids (in the path and in bodies) for real ones most of the time, so calls reach real
objects and the rest get 404. Every call runs inside a savepoint that is rolled back, so each
sees the same starting state. Twice: as a staff release manager (writes go deep) and as a
plain project member (refusals). Bounded: 25 generated examples per operation, no shrinking,
derandomized; the module takes a few minutes (about 4 on 2 cores).

Not checked: that invalid input is always refused (schemathesis' negative_data_rejection).
DRF coerces numbers to strings and takes "" for a null relation; the services refuse what
matters. Path ids that are not digits are not sent: no route matches them, so they never
reach an operation (the API's catch-all 404 answers; test_api_auth covers it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import checks as st_checks

from config.wsgi import application
from notifications.models import Notification
from notifications.services import calendar_token_issue
from notifications.services.announcements import announcement_create
from notifications.services.audiences import audience_create
from releases.scenario import Scenario

from ..factories import PASSWORD, in_days

CONFIG = schemathesis.Config.from_dict(
    {
        # Valid and invalid input both; no shrinking (a failure is reported as generated).
        "generation": {"mode": "all", "deterministic": True, "no-shrink": True, "database": "none"},
        "suppress-health-check": ["all"],
        # Show the requests as sent (a template item's `key` is no secret).
        "output": {"sanitization": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)

# What the contract promises, whatever the input (valid or not).
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    st_checks.unsupported_method,
]

MAX_EXAMPLES = 25
UNKNOWN_ID = 2_000_000_000

# Ids of the real objects of the running test, by the path segment that names them.
WORLD: dict[str, list[Any]] = {}


def _in_days_iso(days: float) -> str:
    return (timezone.now() + dt.timedelta(days=days)).isoformat()


def _routable(value: Any) -> bool:
    """Django routes `<int:pk>` only for digits; anything else misses the operation entirely."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _known_ids(operation: Any, name: str) -> list[Any]:
    kind = operation.path.removeprefix("/api/v1/").split("/")[0]
    return WORLD.get("users" if name == "user_id" else kind, [])


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    """Most of the time a real object's id (of the kind the path names), else an unknown one."""
    if not path_parameters:
        return st.just(path_parameters)
    choices = {
        name: st.sampled_from([*_known_ids(context.operation, name), value if _routable(value) else UNKNOWN_ID])
        for name, value in path_parameters.items()
    }
    return st.fixed_dictionaries(choices)


def _aim_at_real_objects(case: Any) -> None:
    """The coverage phase (boundary values, missing fields, other methods) bypasses the hooks:
    aim its calls at the first real object, so they test the input, not the routing."""
    if case.meta is not None and case.meta.phase.name == "coverage" and case.path_parameters:
        for name in case.path_parameters:
            case.path_parameters[name] = _known_ids(case.operation, name)[0]


def _body_choices() -> dict[str, Any]:
    """Real values for body fields that refer to objects or need a future time."""
    users = st.sampled_from(WORLD["users"])
    future = st.sampled_from([_in_days_iso(20), _in_days_iso(40), _in_days_iso(-1)])
    return {
        "project": st.sampled_from(WORLD["projects"]),
        "user": users,
        "delegate": users,
        "assignee": users,
        "on_behalf_of": users,
        "managers": st.lists(users, max_size=2),
        "stakeholders": st.lists(users, max_size=2),
        "role": st.sampled_from(["QA", "Security"]),
        "approver_role": st.sampled_from(["QA", "Security"]),
        "templates": st.lists(st.sampled_from(WORLD["template_slugs"]), max_size=2),
        "template": st.sampled_from(WORLD["template_slugs"]),
        "slug": st.sampled_from(WORLD["template_slugs"]),
        "go_live_at": future,
        "window_end_at": future,
        "starts_at": st.sampled_from([_in_days_iso(-1), _in_days_iso(1)]),
        "ends_at": future,
        "due_at": future,
        "evidence_url": st.just("https://ci.example.com/build/7"),
        "flags": st.lists(st.sampled_from(["db_migration", "mobile"]), max_size=2),
        "timezone": st.sampled_from(["UTC", "Europe/Prague"]),
        "audience": st.sampled_from(WORLD["audiences"]),
        "addresses": st.lists(st.sampled_from(["a@example.com", "B@example.com", "c@example.org"]), max_size=3),
        "language": st.sampled_from(["en", "cs"]),
        "send_at": future,
    }


def _real_roles(sections: Any) -> Any:
    """A template's nested items with an existing approver role (a generated name never is)."""
    if not isinstance(sections, list):
        return sections
    return [
        {
            **section,
            "items": [
                {**item, "approver_role": "QA"} if isinstance(item, dict) and item.get("approver_role") else item
                for item in section["items"]
            ],
        }
        if isinstance(section, dict) and isinstance(section.get("items"), list)
        else section
        for section in sections
    ]


# Fields a generated body rarely gets right together, by operation.
COMPLETIONS: dict[str, Any] = {
    "POST /api/v1/freeze-windows/": lambda: st.sampled_from(
        [
            {"starts_at": _in_days_iso(70), "ends_at": _in_days_iso(71)},
            {"weekday": 4, "start_time": "18:00", "end_time": "23:59", "timezone": "Europe/Prague"},
        ]
    ),
    "POST /api/v1/items/{id}/signoffs/": lambda: st.just({"decision": "approve"}),
    "POST /api/v1/releases/{id}/announcements/": lambda: st.sampled_from(
        [{"kind": "downtime", "subject": "{release} downtime", "body": "From {window_start}."}, {"kind": "released"}]
    ),
}


@schema.hook
def flatmap_body(context: Any, body: Any) -> Any:
    """Mostly swap fields that refer to objects (or times) for real ones."""
    if not isinstance(body, dict) or not WORLD:
        return st.just(body)
    choices = {**_body_choices(), "sections": st.just(_real_roles(body.get("sections")))}
    swaps = {
        key: st.one_of(choices[key], choices[key], choices[key], st.just(value))
        for key, value in body.items()
        if key in choices
    }
    completion = COMPLETIONS.get(context.operation.label)
    extra: st.SearchStrategy[dict[str, Any]] = st.one_of(completion(), st.just({})) if completion else st.just({})
    return st.tuples(st.fixed_dictionaries(swaps), extra).map(lambda parts: {**body, **parts[0], **parts[1]})


@pytest.fixture
def in_process():
    """As Django's test client does: a request must not close the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _reports(release: Any, manager: Any) -> list[int]:
    """A report done (its file kept under one name across runs) and one still waiting."""
    from django.core.files.base import ContentFile

    from notifications.models import Report

    storage = Report._meta.get_field("pdf").storage
    name = "reports/contract-test.pdf"
    if not storage.exists(name):
        storage.save(name, ContentFile(b"%PDF-1.4\n%%EOF\n"))
    done = Report.objects.create(
        release=release, requested_by=manager, language="en", status="done", pdf=name, size=15,
        finished_at=timezone.now(),
    )  # fmt: skip
    waiting = Report.objects.create(release=release, requested_by=manager, language="en")
    return [done.pk, waiting.pk]


@pytest.fixture
def world(db):
    """A project run by a staff release manager who also holds the QA role, with a release
    made from a built-in template, an ad-hoc item done and signed off, a phase, a freeze
    window, a delegation, a template of their own, audiences (the project's, a global one)
    and an announcement; and a project they are not in, with an audience."""
    s = Scenario(admin="fuzzer", manager="fuzzer", password=PASSWORD)
    manager = s.person("fuzzer", roles=["QA", "Security"], staff=True)
    contributor = s.person("contributor")
    qa2 = s.person("qa2", roles=["QA"])
    stranger = s.person("stranger", roles=["QA"])
    project = s.project("Billing", "billing", admins=[manager], members=[contributor, qa2])
    other = s.project("Payments", "payments", admins=[stranger])

    release = s.start(
        s.create(
            project,
            "Billing",
            "2.0",
            ["release-readiness"],
            go_live_at=in_days(10),
            rollback_plan="Redeploy 1.9.",
        )
    )
    item = s.add_item(release, "Smoke test", role="QA", assignee=contributor)
    s.work_item(item, evidence_url="https://ci.example.com/build/1")
    signoff = s.signoff(item, manager)
    unsigned = s.add_item(release, "Backup restored", role="QA", assignee=contributor)
    s.work_item(unsigned, evidence_url="https://ci.example.com/build/2")
    phase = s.phase(release, "EU")
    draft = s.create(project, "Next", go_live_at=in_days(30))
    foreign = s.create(other, "Elsewhere", by=stranger)
    window = s.freeze("Year end", starts_at=in_days(60), ends_at=in_days(61))
    delegation = s.delegate(manager, qa2, "QA", starts_at=timezone.now(), ends_at=in_days(5))
    audience = audience_create(actor=manager, name="Customers", project=project, addresses=["a@example.com"])
    glob = audience_create(actor=manager, name="Everyone", project=None, addresses=["b@example.com"])
    foreign_audience = audience_create(actor=stranger, name="Theirs", project=other, addresses=["c@example.com"])
    announcement = announcement_create(
        release=release, actor=manager, audience=audience, kind="downtime", subject="{release}", body="Down."
    )
    template = s.custom_template(
        {
            "slug": "hotfix",
            "name": "Hotfix",
            "sections": [
                {
                    "title": "Checks",
                    "items": [{"title": "Tests pass", "category": "functional_testing", "approver_role": "QA"}],
                }
            ],
        },
    )
    reports = _reports(release, manager)
    WORLD.update(
        reports=reports,
        projects=[project.pk, other.pk],
        releases=[release.pk, draft.pk, foreign.pk],
        items=[item.pk, unsigned.pk, release.items.order_by("pk").first().pk],
        signoffs=[signoff.pk],
        phases=[phase.pk],
        **{"freeze-windows": [window.pk]},
        delegations=[delegation.pk],
        templates=[template.pk, *release.applied_templates.values_list("template_id", flat=True)],
        template_slugs=["release-readiness", "hotfix"],
        users=[manager.pk, contributor.pk, qa2.pk, stranger.pk],
        # The calendar feed's path names its secret key, not an id: a real one (the member's).
        calendar=[calendar_token_issue(user=qa2)],
        # Inbox entries of the member (told of items waiting for a QA sign-off) and others'.
        notifications=list(Notification.objects.filter(channel="inbox").order_by("pk").values_list("pk", flat=True)),
        audiences=[audience.pk, glob.pk, foreign_audience.pk],
        announcements=[announcement.pk],
    )
    yield {
        "manager": Token.objects.create(user=manager).key,
        "member": Token.objects.create(user=qa2).key,
    }
    WORLD.clear()


# /readyz takes no input and asks Redis for a worker (a second each time none answers); its
# own tests cover it.
@schema.exclude(path="/readyz").parametrize()
@pytest.mark.parametrize("actor", ["manager", "member"])
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_contract(case, actor, world, in_process):
    """As the staff release manager every operation goes deep; as a plain project member
    (an approver who manages nothing) the refusals are checked too."""
    if actor == "member" and case.meta is not None and case.meta.phase.name == "coverage":
        return  # the input's edge cases are the manager run's; this run is about who may do what
    _aim_at_real_objects(case)
    with transaction.atomic():
        case.call_and_validate(headers={"Authorization": f"Token {world[actor]}"}, checks=CHECKS)
        transaction.set_rollback(True)


def _operations_with_a_body() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, path_item in schema.raw_schema["paths"].items()
        for method, operation in path_item.items()
        if isinstance(operation, dict) and "requestBody" in operation
    ]


def test_a_body_of_another_media_type_gets_the_documented_415(world, client):
    """The fuzzer's media-type probes are exempt from its status check; this is the check."""
    operations = _operations_with_a_body()
    assert len(operations) > 15
    for method, path, operation in operations:
        kind = path.removeprefix("/api/v1/").split("/")[0]
        url = path.replace("{user_id}", str(WORLD["users"][1])).replace("{id}", str(WORLD.get(kind, [0])[0]))
        response = client.generic(
            method, url, "name=x", content_type="text/plain", HTTP_AUTHORIZATION=f"Token {world['manager']}"
        )
        assert response.status_code == 415, (method, path, response.status_code, response.content)
        assert response.json()["code"] == "unsupported_media_type"
        assert "415" in operation["responses"], (method, path)
