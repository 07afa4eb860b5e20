"""Bad input of every kind, on every writing endpoint, gets 400 with messages per field (or
`detail` and `code` for a body that is not JSON at all), never a 500, and changes nothing:
no row anywhere, and no audit event, differs after the request."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from releases.models import AuditEvent

from ..factories import in_days

API = "/api/v1"
HUGE = "x" * 100_000
NAIVE = "2027-01-01T10:00:00"
NOON = "2027-01-01T12:00:00+01:00"
UNKNOWN_ID = 987_654_321
# Everything a request could write to.
WATCHED_APPS = ("auth", "authtoken", "guardian", "releases", "checklists", "approvals", "notifications")


def _fingerprint() -> dict[str, list[dict[str, Any]]]:
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.app_label in WATCHED_APPS
    }


def _past() -> str:
    return (timezone.now() - dt.timedelta(days=1)).isoformat()


def _future(days: float = 20) -> str:
    return (timezone.now() + dt.timedelta(days=days)).isoformat()


@pytest.fixture
def bad_input_world(scenario, project, manager, contributor, qa, qa2, outsider, staff, release, make_item, done):
    """A release in progress with an item done by the contributor and approved by qa, an item
    that needs evidence, a phase, a freeze window, and a built-in template."""
    item = make_item(title="Security review", assignee=contributor)
    done(item)
    signoff = scenario.signoff(item, qa)
    evidence_item = make_item(title="Load test", assignee=contributor, evidence_required=True)
    phase = scenario.phase(release, "Staging", production=False)
    window = scenario.freeze("Holiday freeze", starts_at=in_days(30), ends_at=in_days(40))
    template = scenario.template("release-readiness")
    users = {
        "manager": manager,
        "contributor": contributor,
        "qa": qa,
        "qa2": qa2,
        "outsider": outsider,
        "staff": staff,
    }
    return SimpleNamespace(
        users=users,
        ids={
            "project": project.pk,
            "release": release.pk,
            "item": item.pk,
            "evidence_item": evidence_item.pk,
            "phase": phase.pk,
            "window": window.pk,
            "signoff": signoff.pk,
            "template": template.pk,
            "outsider": outsider.pk,
            "qa": qa.pk,
            "qa2": qa2.pk,
            "contributor": contributor.pk,
        },
    )


@dataclass
class Case:
    """One bad request: who sends it, where, and the field(s) the 400 must name."""

    id: str
    actor: str
    method: str
    path: str  # formatted with the world's ids
    body: Any = None  # JSON-able, or a callable(ids) → JSON-able
    fields: tuple[str, ...] = ()  # keys the 400 body must have; () = any field or detail
    raw: Any = None  # sent as is (str, or a callable(ids) → str), with content_type
    content_type: str = "application/json"
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # multipart upload

    def __str__(self) -> str:
        return self.id


def case(*args: Any, marks: Any = (), **kwargs: Any) -> Any:
    c = Case(*args, **kwargs)
    return pytest.param(c, id=c.id, marks=marks)


R = "/releases/"
REL = "/releases/{release}/"
TRANS = "/releases/{release}/transition/"
PHASES = "/releases/{release}/phases/"
PHASE_T = "/phases/{phase}/transition/"
ITEMS = "/releases/{release}/items/"
ITEM = "/items/{item}/"
SIGN = "/items/{item}/signoffs/"
REVOKE = "/signoffs/{signoff}/revoke/"
DELEG = "/delegations/"
FREEZE = "/freeze-windows/"
WINDOW = "/freeze-windows/{window}/"
PROJECTS = "/projects/"
PROJECT = "/projects/{project}/"
MEMBERS = "/projects/{project}/members/"
TEMPLATES = "/templates/"
TEMPLATE = "/templates/{template}/"
IMPORT = "/templates/import/"
UPGRADE = "/releases/{release}/template-upgrade/"


def new_release(**overrides: Any) -> Any:
    def body(ids: dict[str, int]) -> dict[str, Any]:
        return {
            "project": ids["project"],
            "name": "Billing",
            "version": "3.0",
            "go_live_at": _future(),
            "rollback_plan": "Redeploy.",
            **overrides,
        }

    return body


def item_tpl(**overrides: Any) -> dict[str, Any]:
    return {"title": "Check", "category": "security", "approver_role": "QA", "required_signoffs": 1, **overrides}


def new_template(**overrides: Any) -> dict[str, Any]:
    return {"slug": "bad-input", "name": "Bad input", "sections": [{"title": "S", "items": [item_tpl()]}], **overrides}


def window_body(**overrides: Any) -> Any:
    def body(ids: dict[str, int]) -> dict[str, Any]:
        return {"name": "Freeze", "starts_at": _future(50), "ends_at": _future(51), **overrides}

    return body


YAML_FILE = "application/x-yaml"

CASES = [
    # --- creating a release -------------------------------------------------------------
    case("release-empty-body", "manager", "post", R, {}, ("name", "project")),
    case("release-body-is-a-list", "manager", "post", R, [1, 2], ("non_field_errors",)),
    case("release-body-is-null", "manager", "post", R, raw="null", fields=("non_field_errors",)),
    case("release-invalid-json", "manager", "post", R, raw='{"name": "Billing",', fields=("detail",)),
    case("release-not-json-at-all", "manager", "post", R, raw="name=Billing", fields=("detail",)),
    case(
        "release-json-nested-too-deeply",
        "manager",
        "post",
        R,
        raw="[" * 100_000 + "]" * 100_000,
        fields=("detail",),
    ),
    case("release-project-string", "manager", "post", R, new_release(project="billing"), ("project",)),
    case("release-project-bool", "manager", "post", R, new_release(project=True), ("project",)),
    case("release-project-list", "manager", "post", R, new_release(project=[1]), ("project",)),
    case("release-project-null", "manager", "post", R, new_release(project=None), ("project",)),
    case("release-project-unknown", "manager", "post", R, new_release(project=UNKNOWN_ID), ("project",)),
    case("release-project-huge", "manager", "post", R, new_release(project=10**30), ("project",)),
    case("release-project-negative", "manager", "post", R, new_release(project=-1), ("project",)),
    case("release-name-list", "manager", "post", R, new_release(name=["Billing"]), ("name",)),
    case("release-name-object", "manager", "post", R, new_release(name={"en": "Billing"}), ("name",)),
    case("release-name-null", "manager", "post", R, new_release(name=None), ("name",)),
    case("release-name-blank", "manager", "post", R, new_release(name="   "), ("name",)),
    case("release-name-huge", "manager", "post", R, new_release(name=HUGE), ("name",)),
    case("release-name-nul-char", "manager", "post", R, new_release(name="Bill\x00ing"), ("name",)),
    case(
        "release-name-lone-surrogate",
        "manager",
        "post",
        R,
        raw=lambda ids: '{"name": "Bill\\ud800ing", "project": ' + str(ids["project"]) + "}",
        fields=("name",),
    ),
    case(
        "release-rollback-lone-surrogate",
        "manager",
        "post",
        R,
        raw=lambda ids: '{"name": "Billing", "rollback_plan": "\\udfff", "project": ' + str(ids["project"]) + "}",
        fields=("rollback_plan",),
    ),
    case("release-version-list", "manager", "post", R, new_release(version=["3"]), ("version",)),
    case("release-rollback-huge", "manager", "post", R, new_release(rollback_plan=HUGE), ("rollback_plan",)),
    case("release-description-huge", "manager", "post", R, new_release(description=HUGE), ("description",)),
    case("release-go-live-naive", "manager", "post", R, new_release(go_live_at=NAIVE), ("go_live_at",)),
    case("release-go-live-garbage", "manager", "post", R, new_release(go_live_at="next friday"), ("go_live_at",)),
    case("release-go-live-int", "manager", "post", R, new_release(go_live_at=1767225600), ("go_live_at",)),
    case("release-go-live-date-only", "manager", "post", R, new_release(go_live_at="2027-01-01"), ("go_live_at",)),
    case(
        "release-go-live-year-0", "manager", "post", R, new_release(go_live_at="0000-01-01T00:00:00Z"), ("go_live_at",)
    ),
    case(
        "release-go-live-year-1",
        "manager",
        "post",
        R,
        new_release(go_live_at="0001-01-01T00:00:00+05:00"),
        ("go_live_at",),
    ),
    case("release-go-live-year-9999", "manager", "post", R, new_release(go_live_at="9999-12-31T23:59:59-05:00"), ()),
    case(
        "release-go-live-past",
        "manager",
        "post",
        R,
        lambda ids: new_release()(ids) | {"go_live_at": _past()},
        ("go_live_at",),
    ),
    case(
        "release-window-end-before-go-live",
        "manager",
        "post",
        R,
        lambda ids: new_release()(ids) | {"go_live_at": _future(20), "window_end_at": _future(19)},
        ("window_end_at",),
    ),
    case(
        "release-templates-object",
        "manager",
        "post",
        R,
        new_release(templates={"release-readiness": 1}),
        ("templates",),
    ),
    case("release-templates-string", "manager", "post", R, new_release(templates="release-readiness"), ("templates",)),
    case("release-template-unknown-slug", "manager", "post", R, new_release(templates=["no-such"]), ("templates",)),
    case("release-template-unknown-id", "manager", "post", R, new_release(templates=[UNKNOWN_ID]), ("templates",)),
    case("release-template-bool", "manager", "post", R, new_release(templates=[True]), ("templates",)),
    case("release-template-huge", "manager", "post", R, new_release(templates=[HUGE]), ("templates",)),
    case(
        "release-template-twice",
        "manager",
        "post",
        R,
        new_release(templates=["release-readiness", "release-readiness"]),
        ("templates",),
    ),
    case(
        "release-stakeholders-unknown", "manager", "post", R, new_release(stakeholders=[UNKNOWN_ID]), ("stakeholders",)
    ),
    case("release-stakeholders-bool", "manager", "post", R, new_release(stakeholders=[True]), ("stakeholders",)),
    case("release-stakeholders-string", "manager", "post", R, new_release(stakeholders="qa"), ("stakeholders",)),
    case("release-managers-object", "manager", "post", R, new_release(managers={"id": 1}), ("managers",)),
    case("release-flags-bad-name", "manager", "post", R, new_release(flags=["Database Migration!"]), ("flags",)),
    case("release-flags-object", "manager", "post", R, new_release(flags={"downtime": True}), ("flags",)),
    case(
        "release-emails-bad",
        "manager",
        "post",
        R,
        new_release(stakeholder_emails=["not-an-address"]),
        ("stakeholder_emails",),
    ),
    case(
        "release-self-signoff-string",
        "manager",
        "post",
        R,
        new_release(allow_self_signoff="perhaps"),
        ("allow_self_signoff",),
    ),
    # --- changing a release -------------------------------------------------------------
    case("release-patch-body-list", "manager", "patch", REL, ["name"], ("non_field_errors",)),
    case("release-patch-invalid-json", "manager", "patch", REL, raw="{'name': 'x'}", fields=("detail",)),
    case("release-patch-name-null", "manager", "patch", REL, {"name": None}, ("name",)),
    case("release-patch-name-blank", "manager", "patch", REL, {"name": ""}, ("name",)),
    case("release-patch-name-huge", "manager", "patch", REL, {"name": HUGE}, ("name",)),
    case("release-patch-go-live-naive", "manager", "patch", REL, {"go_live_at": NAIVE}, ("go_live_at",)),
    case("release-patch-go-live-past", "manager", "patch", REL, lambda ids: {"go_live_at": _past()}, ("go_live_at",)),
    case("release-patch-go-live-bool", "manager", "patch", REL, {"go_live_at": True}, ("go_live_at",)),
    case("release-patch-managers-empty", "manager", "patch", REL, {"managers": []}, ("managers",)),
    case("release-patch-managers-unknown", "manager", "patch", REL, {"managers": [UNKNOWN_ID]}, ("managers",)),
    case("release-patch-managers-bool", "manager", "patch", REL, {"managers": [False]}, ("managers",)),
    case("release-patch-stakeholders-object", "manager", "patch", REL, {"stakeholders": {"1": 1}}, ("stakeholders",)),
    case("release-patch-flags-string", "manager", "patch", REL, {"flags": "downtime"}, ("flags",)),
    case(
        "release-patch-self-signoff-null",
        "manager",
        "patch",
        REL,
        {"allow_self_signoff": None},
        ("allow_self_signoff",),
    ),
    case("release-patch-rollback-huge", "manager", "patch", REL, {"rollback_plan": HUGE}, ("rollback_plan",)),
    # --- release transitions and template upgrade -----------------------------------------
    case("transition-empty-body", "manager", "post", TRANS, {}, ("to",)),
    case("transition-unknown-state", "manager", "post", TRANS, {"to": "shipped"}, ("to",)),
    case("transition-state-null", "manager", "post", TRANS, {"to": None}, ("to",)),
    case("transition-state-int", "manager", "post", TRANS, {"to": 3}, ("to",)),
    case("transition-state-list", "manager", "post", TRANS, {"to": ["approved"]}, ("to",)),
    case("transition-reason-huge", "manager", "post", TRANS, {"to": "cancelled", "reason": HUGE}, ("reason",)),
    case(
        "transition-override-string",
        "manager",
        "post",
        TRANS,
        {"to": "approved", "override_freeze": "please"},
        ("override_freeze",),
    ),
    case("transition-invalid-json", "manager", "post", TRANS, raw='{"to": approved}', fields=("detail",)),
    case("upgrade-template-missing", "manager", "post", UPGRADE, {}, ("template",)),
    case("upgrade-template-not-applied", "manager", "post", UPGRADE, {"template": "deployment-plan"}, ("template",)),
    case("upgrade-template-list", "manager", "post", UPGRADE, {"template": ["release-readiness"]}, ("template",)),
    # --- phases ---------------------------------------------------------------------------
    case("phase-empty-body", "manager", "post", PHASES, {}, ("name",)),
    case("phase-name-huge", "manager", "post", PHASES, {"name": HUGE}, ("name",)),
    case("phase-name-null", "manager", "post", PHASES, {"name": None}, ("name",)),
    case("phase-order-string", "manager", "post", PHASES, {"name": "Canary", "order": "first"}, ("order",)),
    case("phase-order-negative", "manager", "post", PHASES, {"name": "Canary", "order": -1}, ("order",)),
    case("phase-order-huge", "manager", "post", PHASES, {"name": "Canary", "order": 10**20}, ("order",)),
    case("phase-order-taken", "manager", "post", PHASES, {"name": "Canary", "order": 1}, ("order",)),
    case(
        "phase-production-string", "manager", "post", PHASES, {"name": "Canary", "production": "maybe"}, ("production",)
    ),
    case("phase-transition-unknown", "manager", "post", PHASE_T, {"to": "exploded"}, ("to",)),
    case("phase-transition-null", "manager", "post", PHASE_T, {"to": None}, ("to",)),
    case("phase-transition-empty", "manager", "post", PHASE_T, {}, ("to",)),
    # --- items ----------------------------------------------------------------------------
    case("release-patch-state", "manager", "patch", REL, {"state": "approved"}, ("state",)),
    case("release-patch-templates-string", "manager", "patch", REL, {"templates": "deployment-plan"}, ("templates",)),
    case("release-patch-templates-unknown", "manager", "patch", REL, {"templates": ["nope"]}, ("templates",)),
    case("item-create-empty", "manager", "post", ITEMS, {}, ("title",)),
    case("item-create-title-huge", "manager", "post", ITEMS, {"title": HUGE}, ("title",)),
    case(
        "item-create-role-unknown",
        "manager",
        "post",
        ITEMS,
        {"title": "X", "approver_role": "Astrologers"},
        ("approver_role",),
    ),
    case("item-create-role-int", "manager", "post", ITEMS, {"title": "X", "approver_role": 1}, ("approver_role",)),
    case(
        "item-create-role-without-signoffs",
        "manager",
        "post",
        ITEMS,
        {"title": "X", "approver_role": "QA", "required_signoffs": 0},
        ("required_signoffs",),
    ),
    case("item-patch-signoffs-zero", "manager", "patch", ITEM, {"required_signoffs": 0}, ("required_signoffs",)),
    case(
        "item-create-role-nul-char",
        "manager",
        "post",
        ITEMS,
        {"title": "X", "approver_role": "Q\x00A"},
        ("approver_role",),
    ),
    case(
        "item-create-role-surrogate",
        "manager",
        "post",
        ITEMS,
        raw='{"title": "X", "approver_role": "\\ud800"}',
        fields=("approver_role",),
    ),
    case("item-patch-role-nul-char", "manager", "patch", ITEM, {"approver_role": "\x00"}, ("approver_role",)),
    case(
        "item-create-signoffs-without-role",
        "manager",
        "post",
        ITEMS,
        {"title": "X", "required_signoffs": 2},
        ("approver_role",),
    ),
    case(
        "item-create-signoffs-negative",
        "manager",
        "post",
        ITEMS,
        {"title": "X", "required_signoffs": -1},
        ("required_signoffs",),
    ),
    case(
        "item-create-signoffs-string",
        "manager",
        "post",
        ITEMS,
        {"title": "X", "required_signoffs": "two"},
        ("required_signoffs",),
    ),
    case(
        "item-create-assignee-unknown", "manager", "post", ITEMS, {"title": "X", "assignee": UNKNOWN_ID}, ("assignee",)
    ),
    case("item-create-assignee-bool", "manager", "post", ITEMS, {"title": "X", "assignee": True}, ("assignee",)),
    case(
        "item-create-assignee-cannot-view",
        "manager",
        "post",
        ITEMS,
        lambda ids: {"title": "X", "assignee": ids["outsider"]},
        ("assignee",),
    ),
    case("item-create-category-unknown", "manager", "post", ITEMS, {"title": "X", "category": "vibes"}, ("category",)),
    case("item-create-due-naive", "manager", "post", ITEMS, {"title": "X", "due_at": NAIVE}, ("due_at",)),
    case("item-create-section-list", "manager", "post", ITEMS, {"title": "X", "section": ["A"]}, ("section",)),
    case("item-state-unknown", "contributor", "patch", ITEM, {"state": "finished"}, ("state",)),
    case("item-state-null", "contributor", "patch", ITEM, {"state": None}, ("state",)),
    case("item-state-bool", "contributor", "patch", ITEM, {"state": True}, ("state",)),
    case(
        "item-na-without-justification", "contributor", "patch", ITEM, {"state": "not_applicable"}, ("justification",)
    ),
    case("item-blocked-without-reason", "contributor", "patch", ITEM, {"state": "blocked"}, ("blocked_reason",)),
    case(
        "item-done-without-evidence",
        "contributor",
        "patch",
        "/items/{evidence_item}/",
        {"state": "done"},
        ("evidence_url",),
    ),
    case("item-evidence-not-url", "contributor", "patch", ITEM, {"evidence_url": "build 4711"}, ("evidence_url",)),
    case(
        "item-evidence-javascript",
        "contributor",
        "patch",
        ITEM,
        {"evidence_url": "javascript:alert(1)"},
        ("evidence_url",),
    ),
    case(
        "item-evidence-ftp", "contributor", "patch", ITEM, {"evidence_url": "ftp://ci.example.com/b"}, ("evidence_url",)
    ),
    case(
        "item-evidence-huge", "contributor", "patch", ITEM, {"evidence_url": "https://e.com/" + HUGE}, ("evidence_url",)
    ),
    case("item-note-huge", "contributor", "patch", ITEM, {"note": HUGE}, ("note",)),
    case("item-note-lone-surrogate", "contributor", "patch", ITEM, raw='{"note": "\\ud83d"}', fields=("note",)),
    case(
        "signoff-comment-lone-surrogate",
        "qa2",
        "post",
        SIGN,
        raw='{"decision": "approve", "comment": "\\ud83d"}',
        fields=("comment",),
    ),
    case("item-note-object", "contributor", "patch", ITEM, {"note": {"text": "x"}}, ("note",)),
    case("item-title-null", "manager", "patch", ITEM, {"title": None}, ("title",)),
    case("item-title-huge", "manager", "patch", ITEM, {"title": HUGE}, ("title",)),
    case("item-assignee-unknown", "manager", "patch", ITEM, {"assignee": UNKNOWN_ID}, ("assignee",)),
    case("item-assignee-string", "manager", "patch", ITEM, {"assignee": "contributor"}, ("assignee",)),
    case("item-assignee-bool", "manager", "patch", ITEM, {"assignee": True}, ("assignee",)),
    case("item-assignee-list", "manager", "patch", ITEM, lambda ids: {"assignee": [ids["qa2"]]}, ("assignee",)),
    case(
        "item-assignee-cannot-view",
        "manager",
        "patch",
        ITEM,
        lambda ids: {"assignee": ids["outsider"]},
        ("assignee",),
    ),
    case("item-required-string", "manager", "patch", ITEM, {"required": "perhaps"}, ("required",)),
    case("item-signoffs-huge", "manager", "patch", ITEM, {"required_signoffs": 10**9}, ("required_signoffs",)),
    case("item-role-unknown", "manager", "patch", ITEM, {"approver_role": "Astrologers"}, ("approver_role",)),
    case("item-role-null-with-signoffs", "manager", "patch", ITEM, {"approver_role": None}, ("approver_role",)),
    case("item-due-naive", "manager", "patch", ITEM, {"due_at": NAIVE}, ("due_at",)),
    case("item-due-garbage", "manager", "patch", ITEM, {"due_at": "soon"}, ("due_at",)),
    case("item-patch-invalid-json", "manager", "patch", ITEM, raw="{", fields=("detail",)),
    # --- sign-offs ------------------------------------------------------------------------
    case("signoff-empty", "qa2", "post", SIGN, {}, ("decision",)),
    case("signoff-decision-unknown", "qa2", "post", SIGN, {"decision": "maybe"}, ("decision",)),
    case("signoff-decision-null", "qa2", "post", SIGN, {"decision": None}, ("decision",)),
    case("signoff-decision-list", "qa2", "post", SIGN, {"decision": ["approve"]}, ("decision",)),
    case("signoff-reject-without-comment", "qa2", "post", SIGN, {"decision": "reject"}, ("comment",)),
    case("signoff-comment-huge", "qa2", "post", SIGN, {"decision": "approve", "comment": HUGE}, ("comment",)),
    case(
        "signoff-on-behalf-unknown",
        "qa2",
        "post",
        SIGN,
        {"decision": "approve", "on_behalf_of": UNKNOWN_ID},
        ("on_behalf_of",),
    ),
    case(
        "signoff-on-behalf-bool", "qa2", "post", SIGN, {"decision": "approve", "on_behalf_of": True}, ("on_behalf_of",)
    ),
    case("revoke-empty", "qa", "post", REVOKE, {}, ("reason",)),
    case("revoke-reason-blank", "qa", "post", REVOKE, {"reason": " "}, ("reason",)),
    case("revoke-reason-null", "qa", "post", REVOKE, {"reason": None}, ("reason",)),
    case("revoke-reason-huge", "qa", "post", REVOKE, {"reason": HUGE}, ("reason",)),
    # --- delegations ----------------------------------------------------------------------
    case("delegation-empty", "qa", "post", DELEG, {}, ("delegate", "role", "starts_at", "ends_at")),
    case(
        "delegation-delegate-unknown",
        "qa",
        "post",
        DELEG,
        lambda ids: {"delegate": UNKNOWN_ID, "role": "QA", "starts_at": _future(1), "ends_at": _future(2)},
        ("delegate",),
    ),
    case(
        "delegation-delegate-bool",
        "qa",
        "post",
        DELEG,
        lambda ids: {"delegate": True, "role": "QA", "starts_at": _future(1), "ends_at": _future(2)},
        ("delegate",),
    ),
    case(
        "delegation-to-self",
        "qa",
        "post",
        DELEG,
        lambda ids: {"delegate": ids["qa"], "role": "QA", "starts_at": _future(1), "ends_at": _future(2)},
        ("delegate",),
    ),
    case(
        "delegation-delegate-without-role",
        "qa",
        "post",
        DELEG,
        lambda ids: {"delegate": ids["contributor"], "role": "QA", "starts_at": _future(1), "ends_at": _future(2)},
        ("delegate",),
    ),
    case(
        "delegation-role-unknown",
        "qa",
        "post",
        DELEG,
        lambda ids: {"delegate": ids["qa2"], "role": "Astrologers", "starts_at": _future(1), "ends_at": _future(2)},
        ("role",),
    ),
    case(
        "delegation-role-nul-char",
        "qa",
        "post",
        DELEG,
        lambda ids: {"delegate": ids["qa2"], "role": "Q\x00A", "starts_at": _future(1), "ends_at": _future(2)},
        ("role",),
    ),
    case(
        "delegation-naive",
        "qa",
        "post",
        DELEG,
        lambda ids: {"delegate": ids["qa2"], "role": "QA", "starts_at": NAIVE, "ends_at": _future(2)},
        ("starts_at",),
    ),
    case(
        "delegation-end-before-start",
        "qa",
        "post",
        DELEG,
        lambda ids: {"delegate": ids["qa2"], "role": "QA", "starts_at": _future(2), "ends_at": _future(1)},
        ("ends_at",),
    ),
    case(
        "delegation-over-already",
        "qa",
        "post",
        DELEG,
        lambda ids: {"delegate": ids["qa2"], "role": "QA", "starts_at": _past(), "ends_at": _past()},
        ("ends_at",),
    ),
    # --- freeze windows -------------------------------------------------------------------
    case("freeze-empty", "staff", "post", FREEZE, {}, ("name",)),
    case("freeze-neither-kind", "staff", "post", FREEZE, {"name": "Freeze"}, ("non_field_errors",)),
    case(
        "freeze-end-before-start",
        "staff",
        "post",
        FREEZE,
        window_body(starts_at=_future(5), ends_at=_future(4)),
        ("ends_at",),
    ),
    case(
        "freeze-end-equals-start",
        "staff",
        "post",
        FREEZE,
        lambda ids: {"name": "F", "starts_at": NOON, "ends_at": NOON},
        ("ends_at",),
    ),
    case("freeze-start-naive", "staff", "post", FREEZE, window_body(starts_at=NAIVE), ("starts_at",)),
    case("freeze-start-only", "staff", "post", FREEZE, window_body(ends_at=None), ("ends_at",)),
    case("freeze-both-kinds", "staff", "post", FREEZE, window_body(weekday=4), ("non_field_errors",)),
    case(
        "freeze-weekday-7",
        "staff",
        "post",
        FREEZE,
        {"name": "Fridays", "weekday": 7, "start_time": "12:00", "end_time": "23:59"},
        ("weekday",),
    ),
    case(
        "freeze-weekday-string",
        "staff",
        "post",
        FREEZE,
        {"name": "Fridays", "weekday": "friday", "start_time": "12:00", "end_time": "23:59"},
        ("weekday",),
    ),
    case(
        "freeze-time-garbage",
        "staff",
        "post",
        FREEZE,
        {"name": "Fridays", "weekday": 4, "start_time": "25:61", "end_time": "23:59"},
        ("start_time",),
    ),
    case(
        "freeze-weekly-missing-end",
        "staff",
        "post",
        FREEZE,
        {"name": "Fridays", "weekday": 4, "start_time": "12:00"},
        ("end_time",),
    ),
    case(
        "freeze-timezone-unknown",
        "staff",
        "post",
        FREEZE,
        {"name": "Fridays", "weekday": 4, "start_time": "12:00", "end_time": "23:00", "timezone": "Mars/Olympus"},
        ("timezone",),
    ),
    case(
        "freeze-timezone-path",
        "staff",
        "post",
        FREEZE,
        {"name": "Fridays", "weekday": 4, "start_time": "12:00", "end_time": "23:00", "timezone": "../../etc/passwd"},
        ("timezone",),
    ),
    case("freeze-project-unknown", "staff", "post", FREEZE, window_body(project=UNKNOWN_ID), ("project",)),
    case("freeze-project-string", "staff", "post", FREEZE, window_body(project="billing"), ("project",)),
    case("freeze-name-huge", "staff", "post", FREEZE, window_body(name=HUGE), ("name",)),
    case("freeze-patch-end-before-start", "staff", "patch", WINDOW, lambda ids: {"ends_at": _future(1)}, ("ends_at",)),
    case("freeze-patch-make-both-kinds", "staff", "patch", WINDOW, {"weekday": 2}, ("non_field_errors",)),
    case("freeze-patch-name-null", "staff", "patch", WINDOW, {"name": None}, ("name",)),
    # --- projects and members -------------------------------------------------------------
    case("project-empty", "staff", "post", PROJECTS, {}, ("name",)),
    case("project-name-huge", "staff", "post", PROJECTS, {"name": HUGE}, ("name",)),
    case("project-name-list", "staff", "post", PROJECTS, {"name": ["Billing"]}, ("name",)),
    case("project-slug-bad", "staff", "post", PROJECTS, {"name": "Payments", "slug": "Not A Slug"}, ("slug",)),
    case("project-slug-taken", "staff", "post", PROJECTS, {"name": "Billing again", "slug": "billing"}, ("slug",)),
    case("project-patch-name-blank", "manager", "patch", PROJECT, {"name": ""}, ("name",)),
    case("project-patch-description-huge", "manager", "patch", PROJECT, {"description": HUGE}, ("description",)),
    case("member-user-unknown", "manager", "post", MEMBERS, {"user": UNKNOWN_ID}, ("user",)),
    case("member-user-string", "manager", "post", MEMBERS, {"user": "outsider"}, ("user",)),
    case("member-user-bool", "manager", "post", MEMBERS, {"user": True}, ("user",)),
    case(
        "member-role-unknown",
        "manager",
        "post",
        MEMBERS,
        lambda ids: {"user": ids["outsider"], "role": "owner"},
        ("role",),
    ),
    # --- templates ------------------------------------------------------------------------
    case("template-empty", "staff", "post", TEMPLATES, {}, ("slug", "name", "sections")),
    case("template-sections-object", "staff", "post", TEMPLATES, new_template(sections={"title": "S"}), ("sections",)),
    case("template-sections-empty", "staff", "post", TEMPLATES, new_template(sections=[]), ("sections",)),
    case(
        "template-items-string",
        "staff",
        "post",
        TEMPLATES,
        new_template(sections=[{"title": "S", "items": "x"}]),
        ("sections",),
    ),
    case(
        "template-item-category-unknown",
        "staff",
        "post",
        TEMPLATES,
        new_template(sections=[{"title": "S", "items": [item_tpl(category="vibes")]}]),
        ("sections",),
    ),
    case(
        "template-item-role-unknown",
        "staff",
        "post",
        TEMPLATES,
        new_template(sections=[{"title": "S", "items": [item_tpl(approver_role="Astrologers")]}]),
        ("sections",),
    ),
    case(
        "template-item-role-nul-char",
        "staff",
        "post",
        TEMPLATES,
        new_template(sections=[{"title": "S", "items": [item_tpl(approver_role="QA\x00")]}]),
        ("sections",),
    ),
    case(
        "template-item-signoffs-huge",
        "staff",
        "post",
        TEMPLATES,
        new_template(sections=[{"title": "S", "items": [item_tpl(required_signoffs=999)]}]),
        ("sections",),
    ),
    case(
        "template-item-signoffs-without-role",
        "staff",
        "post",
        TEMPLATES,
        new_template(sections=[{"title": "S", "items": [item_tpl(approver_role=None, required_signoffs=1)]}]),
        (),
    ),
    case(
        "template-item-due-offset-huge",
        "staff",
        "post",
        TEMPLATES,
        new_template(sections=[{"title": "S", "items": [item_tpl(due_offset_days=10_000)]}]),
        ("sections",),
    ),
    case(
        "template-item-title-huge",
        "staff",
        "post",
        TEMPLATES,
        new_template(sections=[{"title": "S", "items": [item_tpl(title=HUGE)]}]),
        ("sections",),
    ),
    case(
        "template-item-keys-twice",
        "staff",
        "post",
        TEMPLATES,
        new_template(sections=[{"title": "S", "items": [item_tpl(key="a"), item_tpl(key="a")]}]),
        (),
    ),
    case("template-slug-bad", "staff", "post", TEMPLATES, new_template(slug="Bad Slug"), ("slug",)),
    case("template-slug-taken", "staff", "post", TEMPLATES, new_template(slug="release-readiness"), ("slug",)),
    case("template-name-huge", "staff", "post", TEMPLATES, new_template(name=HUGE), ("name",)),
    case(
        "template-put-sections-string",
        "staff",
        "put",
        TEMPLATE,
        new_template(slug="release-readiness", sections="x"),
        ("sections",),
    ),
    case("template-patch-name-huge", "staff", "patch", TEMPLATE, {"name": HUGE}, ("name",)),
    case("template-patch-slug-changed", "staff", "patch", TEMPLATE, {"slug": "renamed"}, ("slug",)),
    case("import-json-empty-object", "staff", "post", IMPORT, {}, ("file",)),
    case("import-json-list", "staff", "post", IMPORT, [new_template()], ("file",)),
    case("import-json-format-unknown", "staff", "post", IMPORT, new_template(format="other/9"), ("format",)),
    case("import-json-sections-missing", "staff", "post", IMPORT, {"slug": "bad-input", "name": "Bad"}, ("sections",)),
    case(
        "import-json-item-category-list",
        "staff",
        "post",
        IMPORT,
        new_template(sections=[{"title": "S", "items": [item_tpl(category=["security"])]}]),
        ("sections[0].items[0].category",),
    ),
    case(
        "import-json-title-nul-char",
        "staff",
        "post",
        IMPORT,
        new_template(name="Bad\x00input"),
        ("name",),
    ),
    case(
        "import-json-role-unknown",
        "staff",
        "post",
        IMPORT,
        new_template(sections=[{"title": "S", "items": [item_tpl(approver_role="Astrologers")]}]),
        ("sections[0].items[0].approver_role",),
    ),
    case(
        "import-json-role-nul-char",
        "staff",
        "post",
        IMPORT,
        new_template(sections=[{"title": "S", "items": [item_tpl(approver_role="Q\x00A")]}]),
        ("sections[0].items[0].approver_role",),
    ),
    case(
        "import-json-name-lone-surrogate",
        "staff",
        "post",
        IMPORT,
        raw='{"slug": "bad-input", "name": "\\ud800", "sections": '
        '[{"title": "S", "items": [{"title": "X", "category": "security", "required_signoffs": 0}]}]}',
        fields=("name",),
    ),
    case(
        "import-json-too-large",
        "staff",
        "post",
        IMPORT,
        raw='{"slug": "bad-input", "name": "' + "x" * 3_000_000 + '"}',
        fields=("detail",),
    ),
    case(
        "release-create-too-large",
        "manager",
        "post",
        R,
        raw='{"name": "' + "x" * 3_000_000 + '"}',
        fields=("detail",),
    ),
    case(
        "import-json-nested-too-deeply",
        "staff",
        "post",
        IMPORT,
        raw='{"slug": ' + "[" * 100_000 + "]" * 100_000 + "}",
        fields=("detail",),
    ),
    case(
        "import-yaml-nested-too-deeply",
        "staff",
        "post",
        IMPORT,
        files={"file": ("t.yaml", b"[" * 100_000 + b"]" * 100_000)},
        fields=("file",),
    ),
    case("import-invalid-json-body", "staff", "post", IMPORT, raw='{"slug": ', fields=("detail",)),
    case(
        "import-yaml-invalid",
        "staff",
        "post",
        IMPORT,
        files={"file": ("t.yaml", b"slug: [unclosed\nname: x\n")},
        fields=("file",),
    ),
    case(
        "import-yaml-list",
        "staff",
        "post",
        IMPORT,
        files={"file": ("t.yaml", b"- slug: x\n- name: y\n")},
        fields=("non_field_errors",),
    ),
    case(
        "import-yaml-scalar",
        "staff",
        "post",
        IMPORT,
        files={"file": ("t.yml", b"just text\n")},
        fields=("non_field_errors",),
    ),
    case("import-yaml-empty", "staff", "post", IMPORT, files={"file": ("t.yaml", b"")}, fields=()),
    case(
        "import-yaml-python-tag",
        "staff",
        "post",
        IMPORT,
        files={"file": ("t.yaml", b"slug: !!python/object/apply:os.system ['true']\n")},
        fields=("file",),
    ),
    case(
        "import-yaml-bad-category",
        "staff",
        "post",
        IMPORT,
        files={
            "file": (
                "t.yaml",
                b"slug: bad-input\nname: Bad\nsections:\n- title: S\n  items:\n  - title: X\n    category: vibes\n",
            )
        },
        fields=("sections[0].items[0].category",),
    ),
    case(
        "import-yaml-date-as-name",
        "staff",
        "post",
        IMPORT,
        files={"file": ("t.yaml", b"slug: bad-input\nname: 2027-01-01\nsections: []\n")},
        fields=("name", "sections"),
    ),
    case(
        "import-json-file-invalid",
        "staff",
        "post",
        IMPORT,
        files={"file": ("t.json", b'{"slug": "x",}')},
        fields=("file",),
    ),
    case(
        "import-yaml-nul-char",
        "staff",
        "post",
        IMPORT,
        files={
            "file": (
                "t.yaml",
                b'slug: bad-input\nname: "Bad\\0"\nsections:\n- title: S\n  items:\n'
                b"  - title: X\n    category: security\n    required_signoffs: 0\n",
            )
        },
        fields=("name",),
    ),
    case(
        "import-file-not-utf8",
        "staff",
        "post",
        IMPORT,
        files={"file": ("t.yaml", b"name: \xff\xfe\xfa\n")},
        fields=("file",),
    ),
    case(
        "import-multipart-without-file", "staff", "post", IMPORT, files={"other": ("t.yaml", b"x: 1")}, fields=("file",)
    ),
]


def _send(client, c: Case, ids: dict[str, int]):
    url = API + c.path.format(**ids)
    method = getattr(client, c.method)
    if c.files:
        data = {name: SimpleUploadedFile(fname, content) for name, (fname, content) in c.files.items()}
        return method(url, data, format="multipart")
    if c.raw is not None:
        return method(url, c.raw(ids) if callable(c.raw) else c.raw, content_type=c.content_type)
    body = c.body(ids) if callable(c.body) else c.body
    return method(url, body, format="json")


@pytest.mark.parametrize("c", CASES)
def test_bad_input_gets_400_with_field_messages_and_changes_nothing(c: Case, bad_input_world, api_as):
    client = api_as(bad_input_world.users[c.actor])
    audit_before = AuditEvent.objects.count()
    before = _fingerprint()

    response = _send(client, c, bad_input_world.ids)

    assert response.status_code == 400, (response.status_code, response.content[:1000])
    body = response.json()
    assert isinstance(body, dict), body
    assert body
    for name in c.fields:
        assert name in body, (name, body)
        assert body[name], body  # a message (or nested messages) for the field
    if "detail" in body:
        assert isinstance(body["detail"], str), body
        assert body.get("code"), body
    else:
        for name, messages in body.items():
            assert isinstance(messages, list | dict), (name, body)
            assert messages, (name, body)
    assert AuditEvent.objects.count() == audit_before
    assert _fingerprint() == before


# --- lists: pages and filters ---------------------------------------------------------------

LISTS = [
    "/projects/",
    "/projects/{project}/members/",
    "/templates/",
    "/releases/",
    "/releases/{release}/items/",
    "/releases/{release}/phases/",
    "/releases/{release}/audit/",
    "/freeze-windows/",
    "/delegations/",
]
PAGES = [
    {"page": "0"},
    {"page": "-1"},
    {"page": "abc"},
    {"page": "1.5"},
    {"page": "999999"},
    {"page": str(10**30)},
    {"page": "last"},
    {"page": ""},
    {"page_size": "-5"},
    {"page_size": "0"},
    {"page_size": "abc"},
    {"page_size": str(10**30)},
    {"page_size": "100000"},
    {"page": "2", "page_size": "1"},
    {"page": "\x00"},
]


def _expected_page(params: dict[str, str], rows: int) -> tuple[int, int]:
    """The status, and for a 200 the number of rows on the page, for a list of `rows` rows:
    400 for a page that isn't a number; no page is the first, "last" the last (an empty
    list has one, empty, page); a number outside 1..last is 404. A page size that isn't a
    positive number is the default, 50; a bigger one than 200 is 200."""
    page, size = params.get("page", ""), params.get("page_size", "")
    if page not in ("", "last") and not (page.isascii() and page.isdigit()):
        return 400, 0
    size_n = min(int(size), 200) if size.isascii() and size.isdigit() and int(size) > 0 else 50
    last = max(1, -(-rows // size_n))
    number = 1 if page == "" else last if page == "last" else int(page)
    if not 1 <= number <= last:
        return 404, 0
    return 200, min(size_n, rows - (number - 1) * size_n)


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("params", PAGES, ids=lambda p: "&".join(f"{k}={v[:12]!r}" for k, v in p.items()))
def test_odd_pages_give_a_page_or_404_never_500(path, params, bad_input_world, api_as):
    """A page that isn't a number is a 400 naming `page`; a number with no page, 404."""
    client = api_as(bad_input_world.users["manager"])
    url = API + path.format(**bad_input_world.ids)
    rows = client.get(url).json()["count"]
    status, on_page = _expected_page(params, rows)

    response = client.get(url, params)

    assert response.status_code == status, (rows, response.status_code, response.content[:500])
    body = response.json()
    if status == 400:
        assert body == {"page": ["A page number: 1, 2, 3, …"]}
    elif status == 404:
        assert body["code"] == "not_found"
        assert body["detail"]
    else:
        assert body["count"] == rows
        assert len(body["results"]) == on_page


def test_page_size_is_capped_at_200(bad_input_world, api_as):
    from releases.models import FreezeWindow

    FreezeWindow.objects.bulk_create(
        FreezeWindow(name=f"Freeze {n:03}", starts_at=in_days(100 + n), ends_at=in_days(101 + n)) for n in range(205)
    )
    response = api_as(bad_input_world.users["manager"]).get(f"{API}/freeze-windows/", {"page_size": "100000"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 206
    assert len(body["results"]) == 200
    assert body["next"] is not None


BAD_FILTERS = [
    ("/releases/", {"go_live_after": "garbage"}, "go_live_after"),
    ("/releases/", {"go_live_before": "2027-13-45T99:00:00Z"}, "go_live_before"),
    ("/releases/", {"state": "shipped"}, "state"),
    ("/releases/", {"project": "billing"}, "project"),
    ("/releases/", {"project": "1e400"}, "project"),
    ("/releases/", {"search": "x" * 201}, "search"),
    ("/releases/", {"search": "bill\x00ing"}, "search"),
    ("/releases/{release}/items/", {"state": "finished"}, "state"),
    ("/releases/{release}/items/", {"category": "vibes"}, "category"),
    ("/releases/{release}/items/", {"assignee": "contributor"}, "assignee"),
    ("/releases/{release}/items/", {"overdue": "maybe"}, "overdue"),
    ("/releases/", {"go_live_after": "2027-01-01T10:00:00"}, "go_live_after"),
    ("/releases/", {"go_live_before": "2027-01-01"}, "go_live_before"),
    ("/templates/", {"category": "vibes"}, "category"),
    ("/templates/", {"slug": "x" * 101}, "slug"),
]


@pytest.mark.parametrize(
    ("path", "params", "name"), BAD_FILTERS, ids=[f"{p}?{next(iter(q))}" for p, q, _ in BAD_FILTERS]
)
def test_garbage_filter_values_give_400_naming_the_filter(path, params, name, bad_input_world, api_as):
    response = api_as(bad_input_world.users["manager"]).get(API + path.format(**bad_input_world.ids), params)
    assert response.status_code == 400, (response.status_code, response.content[:500])
    assert response.json()[name]


@pytest.mark.parametrize(
    "params",
    [{"overdue": ""}, {"assignee": ""}, {"state": ""}],
    ids=["overdue-blank", "assignee-blank", "state-blank"],
)
def test_lenient_item_filters_are_ignored_not_500(params, bad_input_world, api_as):
    response = api_as(bad_input_world.users["manager"]).get(
        API + "/releases/{release}/items/".format(**bad_input_world.ids), params
    )
    assert response.status_code == 200
    assert response.json()["count"] == 2


@pytest.mark.parametrize(
    "path",
    [
        "/releases/99999999999999999999/",
        "/items/99999999999999999999/",
        "/phases/99999999999999999999/transition/",
        "/templates/99999999999999999999/",
        "/templates/99999999999999999999/export/",
        "/freeze-windows/99999999999999999999/",
        "/projects/99999999999999999999/",
        "/projects/{project}/members/99999999999999999999/",
    ],
)
def test_ids_beyond_the_integer_range_give_404(path, bad_input_world, api_as):
    client = api_as(bad_input_world.users["staff"])
    url = API + path.format(**bad_input_world.ids)
    method = "post" if "transition" in url else "delete" if "members" in url else "get"
    response = getattr(client, method)(url, {"to": "done"} if method == "post" else None, format="json")
    assert response.status_code == 404, (response.status_code, response.content[:500])


def test_template_export_with_an_unknown_format_is_400(bad_input_world, api_as):
    url = API + "/templates/{template}/export/".format(**bad_input_world.ids)
    response = api_as(bad_input_world.users["staff"]).get(url, {"format": "xml"})
    assert response.status_code == 400
    assert response.json()["format"]
