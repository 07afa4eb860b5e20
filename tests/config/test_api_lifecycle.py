"""The whole life of a release through the REST API only, as a CI pipeline and the people of
PRODUCT.md would live it (issue 3, first "Done when" bullet)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.factories import MembershipFactory, UserFactory

API = "/api/v1"

CHECKS_TEMPLATE = {
    "slug": "api-release-checks",
    "name": "API release checks",
    "description": "Testing and security for a service release.",
    "sections": [
        {
            "title": "Testing",
            "items": [
                {
                    "key": "automated-tests",
                    "title": "Automated test suite passes",
                    "category": "functional_testing",
                    "required": True,
                    "approver_role": "QA",
                    "required_signoffs": 2,
                    "evidence_required": True,
                    "due_offset_days": -1,
                },
                {
                    "key": "manual-regression",
                    "title": "Manual regression run",
                    "category": "functional_testing",
                    "approver_role": "QA",
                    "required_signoffs": 1,
                    "evidence_required": True,
                    "due_offset_days": -2,
                },
            ],
        },
        {
            "title": "Security",
            "items": [
                {
                    "key": "security-review",
                    "title": "Security review",
                    "category": "security",
                    "approver_role": "Security",
                    "required_signoffs": 1,
                },
            ],
        },
    ],
}
DEPLOY_TEMPLATE = {
    "slug": "api-deploy-plan",
    "name": "API deployment plan",
    "sections": [
        {
            "title": "Deployment",
            "items": [
                {
                    "key": "rollback-rehearsal",
                    "title": "Rollback rehearsed on staging",
                    "category": "rollback",
                    "approver_role": "Operations",
                    "required_signoffs": 1,
                },
                {
                    "key": "migration-dry-run",
                    "title": "Database migration dry run",
                    "category": "migration",
                    "approver_role": "Operations",
                    "required_signoffs": 1,
                },
                {
                    "key": "release-notes",
                    "title": "Release notes published",
                    "category": "documentation",
                    "required": False,
                    "approver_role": None,
                    "required_signoffs": 0,
                },
            ],
        },
    ],
}


def _ok(response, code=200):
    assert response.status_code == code, (response.status_code, response.content[:2000])
    return response.json()


def _is_subsequence(wanted: list[str], actual: list[str]) -> bool:
    it = iter(actual)
    return all(any(a == w for a in it) for w in wanted)


def test_release_lives_its_whole_life_through_the_api(
    api_as, api_token_for, project, manager, contributor, qa, qa2, security, ops, staff
):
    ci_bot = UserFactory(username="ci-bot")
    MembershipFactory(project=project, user=ci_bot)
    admin, mgr = api_as(staff), api_as(manager)
    people = {u.username: api_as(u) for u in (contributor, qa, qa2, security, ops)}
    pipeline = api_token_for(ci_bot)  # Authorization: Token <key>, nothing else

    # An administrator publishes the two templates the team uses.
    for body in (CHECKS_TEMPLATE, DEPLOY_TEMPLATE):
        template = _ok(admin.post(f"{API}/templates/", body, format="json"), 201)
        assert (template["slug"], template["version"], template["in_use"]) == (body["slug"], 1, False)

    # The release manager creates the release from both, by slug, with a future go-live.
    go_live = (timezone.now() + dt.timedelta(days=10)).replace(microsecond=0)
    release = _ok(
        mgr.post(
            f"{API}/releases/",
            {
                "project": project.pk,
                "name": "Billing",
                "version": "2.0",
                "go_live_at": go_live.isoformat(),
                "rollback_plan": "Redeploy 1.9 from tag v1.9; restore the 06:00 snapshot.",
                "templates": ["api-release-checks", "api-deploy-plan"],
            },
            format="json",
        ),
        201,
    )
    rid = release["id"]
    assert release["state"] == "draft"
    assert release["readiness"] == 0
    assert release["required_total"] == 5
    assert [t["slug"] for t in release["templates"]] == ["api-release-checks", "api-deploy-plan"]
    assert dt.datetime.fromisoformat(release["go_live_at"]) == go_live
    assert _ok(mgr.post(f"{API}/releases/{rid}/transition/", {"to": "in_progress"}, format="json"))["state"] == (
        "in_progress"
    )

    checklist = _ok(mgr.get(f"{API}/releases/{rid}/items/"))
    assert checklist["count"] == 6
    items = {row["source_key"]: row for row in checklist["results"]}
    ids = {key: row["id"] for key, row in items.items()}
    assert items["automated-tests"]["due_at"] is not None
    assert dt.datetime.fromisoformat(items["automated-tests"]["due_at"]) == go_live - dt.timedelta(days=1)

    def item(key, client=mgr):
        return _ok(client.get(f"{API}/items/{ids[key]}/"))

    def readiness():
        return _ok(mgr.get(f"{API}/releases/{rid}/"))["readiness"]

    def sign(who, key, decision="approve", comment=""):
        return people[who].post(
            f"{API}/items/{ids[key]}/signoffs/", {"decision": decision, "comment": comment}, format="json"
        )

    # The manager assigns the work; the migration does not apply to this release.
    for key, user in (
        ("automated-tests", ci_bot),
        ("manual-regression", qa2),
        ("security-review", contributor),
        ("rollback-rehearsal", contributor),
    ):
        row = _ok(mgr.patch(f"{API}/items/{ids[key]}/", {"assignee": user.pk}, format="json"))
        assert (row["assignee"], row["assignee_username"]) == (user.pk, user.username)
    row = _ok(
        mgr.patch(
            f"{API}/items/{ids['migration-dry-run']}/",
            {"state": "not_applicable", "justification": "2.0 changes no database schema."},
            format="json",
        )
    )
    assert row["state"] == "not_applicable"
    assert row["is_ready"] is False

    # The contributor works their items, with evidence.
    contributor_api = people["contributor"]
    _ok(contributor_api.patch(f"{API}/items/{ids['rollback-rehearsal']}/", {"state": "in_progress"}, format="json"))
    for key, url in (
        ("security-review", "https://wiki.example.com/security/billing-2.0"),
        ("rollback-rehearsal", "https://wiki.example.com/ops/rollback-drill-2.0"),
    ):
        row = _ok(
            contributor_api.patch(f"{API}/items/{ids[key]}/", {"state": "done", "evidence_url": url}, format="json")
        )
        assert (row["state"], row["evidence_url"], row["completed_by"]) == ("done", url, contributor.pk)

    # The CI pipeline marks the test suite done with its token, the build as evidence.
    build_url = "https://ci.example.com/billing/builds/4711"
    row = _ok(
        pipeline.patch(
            f"{API}/items/{ids['automated-tests']}/", {"state": "done", "evidence_url": build_url}, format="json"
        )
    )
    assert (row["state"], row["evidence_url"], row["completed_by"]) == ("done", build_url, ci_bot.pk)

    # qa2 runs the manual regression and may not approve their own work.
    _ok(
        people["qa2"].patch(
            f"{API}/items/{ids['manual-regression']}/",
            {"state": "done", "evidence_url": "https://qa.example.com/runs/101"},
            format="json",
        )
    )
    refused = sign("qa2", "manual-regression")
    assert refused.status_code == 403
    assert refused.json()["code"] == "separation_of_duties"
    assert item("manual-regression")["signoffs"] == []

    # qa approves it; then the evidence changes and the approval goes stale.
    signoff = _ok(sign("qa", "manual-regression", comment="Regression run looks clean."), 201)
    assert (signoff["approver"], signoff["decision"], signoff["stale"]) == (qa.pk, "approve", False)
    row = item("manual-regression")
    assert (row["valid_approvals"], row["is_ready"]) == (1, True)
    assert readiness() == 20  # 1 of 5 required items done and signed

    _ok(
        people["qa2"].patch(
            f"{API}/items/{ids['manual-regression']}/",
            {"evidence_url": "https://qa.example.com/runs/102"},
            format="json",
        )
    )
    row = item("manual-regression")
    assert [(s["approver"], s["stale"], s["revoked"]) for s in row["signoffs"]] == [(qa.pk, True, False)]
    assert (row["valid_approvals"], row["is_signed"], row["is_ready"]) == (0, False, False)
    assert readiness() == 0

    # The other approvers sign; the test suite has one of its two QA approvals.
    _ok(sign("security", "security-review"), 201)
    _ok(sign("ops", "rollback-rehearsal"), 201)
    _ok(sign("ops", "migration-dry-run", comment="Agreed: no schema change."), 201)
    _ok(sign("qa", "automated-tests"), 201)
    assert readiness() == 60

    # The go/no-go is refused, naming every item still missing sign-offs.
    refused = mgr.post(f"{API}/releases/{rid}/transition/", {"to": "approved"}, format="json")
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "transition_refused"
    assert {f["code"] for f in body["failures"]} == {"signoff_missing"}
    missing = {f["item"]: (f["have"], f["need"], f["role"]) for f in body["failures"]}
    assert missing == {ids["automated-tests"]: (1, 2, "QA"), ids["manual-regression"]: (0, 1, "QA")}
    assert any("Manual regression run" in f["message"] for f in body["failures"])
    assert _ok(mgr.get(f"{API}/releases/{rid}/"))["state"] == "in_progress"

    # The deployment phases are planned; staging runs before the go/no-go, production can't.
    staging = _ok(
        mgr.post(f"{API}/releases/{rid}/phases/", {"name": "Staging", "production": False}, format="json"), 201
    )
    production = _ok(mgr.post(f"{API}/releases/{rid}/phases/", {"name": "Production"}, format="json"), 201)
    assert (staging["order"], staging["production"], production["order"], production["production"]) == (
        1,
        False,
        2,
        True,
    )
    assert _ok(mgr.post(f"{API}/phases/{staging['id']}/transition/", {"to": "in_progress"}, format="json"))[
        "state"
    ] == ("in_progress")
    early = mgr.post(f"{API}/phases/{production['id']}/transition/", {"to": "in_progress"}, format="json")
    assert early.status_code == 409
    assert [f["code"] for f in early.json()["failures"]] == ["release_not_approved"]

    # The missing sign-offs come in; the go/no-go passes.
    _ok(sign("qa2", "automated-tests"), 201)
    _ok(sign("qa", "manual-regression", comment="Re-checked run 102."), 201)
    row = item("manual-regression")
    assert [(s["approver"], s["stale"]) for s in sorted(row["signoffs"], key=lambda s: s["id"])] == [
        (qa.pk, True),  # the stale approval stays visible
        (qa.pk, False),
    ]
    assert row["valid_approvals"] == 1
    assert item("automated-tests")["valid_approvals"] == 2
    assert readiness() == 100
    approved = _ok(mgr.post(f"{API}/releases/{rid}/transition/", {"to": "approved"}, format="json"))
    assert approved["state"] == "approved"
    assert approved["approved_at"] is not None

    # Staging finishes, production starts (the release goes live) and finishes.
    phase = _ok(mgr.post(f"{API}/phases/{staging['id']}/transition/", {"to": "done"}, format="json"))
    assert phase["finished_at"] is not None
    phase = _ok(mgr.post(f"{API}/phases/{production['id']}/transition/", {"to": "in_progress"}, format="json"))
    assert phase["started_at"] is not None
    live = _ok(mgr.get(f"{API}/releases/{rid}/"))
    assert live["state"] == "live"
    assert live["went_live_at"] is not None
    _ok(mgr.post(f"{API}/phases/{production['id']}/transition/", {"to": "done"}, format="json"))
    assert [p["state"] for p in _ok(mgr.get(f"{API}/releases/{rid}/phases/"))["results"]] == ["done", "done"]
    completed = _ok(mgr.post(f"{API}/releases/{rid}/transition/", {"to": "completed"}, format="json"))
    assert completed["state"] == "completed"
    assert completed["completed_at"] is not None

    # The audit trail shows every step, newest first.
    audit = _ok(mgr.get(f"{API}/releases/{rid}/audit/", {"page_size": 200}))
    events = audit["results"]
    assert audit["count"] == len(events)
    stamps = [(e["created_at"], e["id"]) for e in events]
    assert stamps == sorted(stamps, reverse=True)
    chronological = list(reversed(events))
    actions = [e["action"] for e in chronological]
    assert _is_subsequence(
        [
            "release.created",
            "release.template_applied",
            "release.template_applied",
            "release.in_progress",
            "item.assigned",
            "item.assigned",
            "item.assigned",
            "item.assigned",
            "item.state_changed",  # migration not applicable
            "item.state_changed",  # rollback rehearsal in progress
            "item.state_changed",  # security review done
            "item.state_changed",  # rollback rehearsal done
            "item.state_changed",  # test suite done by the pipeline
            "item.state_changed",  # manual regression done
            "signoff.approved",
            "signoff.stale",
            "item.updated",
            "signoff.approved",
            "signoff.approved",
            "signoff.approved",
            "signoff.approved",
            "phase.created",
            "phase.created",
            "phase.in_progress",
            "signoff.approved",
            "signoff.approved",
            "release.approved",
            "phase.done",
            "phase.in_progress",
            "release.live",
            "phase.done",
            "release.completed",
        ],
        actions,
    ), actions
    assert actions[0] == "release.created"
    assert actions[-1] == "release.completed"
    assert actions.count("signoff.approved") == 7
    assert actions.count("signoff.stale") == 1
    by_pipeline = [e for e in chronological if e["action"] == "item.state_changed" and e["actor"] == ci_bot.pk]
    assert len(by_pipeline) == 1
    assert by_pipeline[0]["actor_name"] == "ci-bot"
    assert by_pipeline[0]["target_id"] == ids["automated-tests"]
    assert by_pipeline[0]["after"]["evidence_url"] == build_url
    stale = next(e for e in chronological if e["action"] == "signoff.stale")
    assert (stale["after"]["item"], stale["after"]["approver"]) == (ids["manual-regression"], "qa")
    approval = next(e for e in chronological if e["action"] == "release.approved")
    assert approval["actor_name"] == "manager"
    assert approval["before"] == {"state": "in_progress"}
