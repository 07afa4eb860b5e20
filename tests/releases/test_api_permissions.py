"""Who may do what through the API, for projects, releases, phases, the audit trail, freeze
windows and templates: anonymous → 401; an outsider → 404 for anything of a project or
release (the global template and freeze-window reads are open to every user, their writes
are for staff); a stakeholder reads the release but every write is 403 and changes nothing;
then each role does exactly what PRODUCT.md gives it."""

import pytest

from releases.models import ProjectMembership, Release
from releases.services import release_create

from .. import api_fixtures
from ..api_fixtures import API, Row, check_row, db_fingerprint, mini_template_data, routes_of
from ..factories import MembershipFactory, UserFactory, in_days

api, world = api_fixtures.api, api_fixtures.world  # the fixtures this module uses

FREEZE = {"name": "Sneaky freeze", "starts_at": "2031-12-20T00:00:00+01:00", "ends_at": "2032-01-02T00:00:00+01:00"}

ROWS = [
    # projects
    Row("projects-list", "get", "/projects/", outsider=200, stakeholder=200),
    Row("project-create", "post", "/projects/", {"name": "Sneaky"}, (403, "forbidden"), (403, "forbidden")),
    Row("project-get", "get", "/projects/{project}/", stakeholder=404),
    Row("project-patch", "patch", "/projects/{project}/", {"name": "Hacked"}, stakeholder=404),
    Row("members-list", "get", "/projects/{project}/members/", stakeholder=404),
    Row("member-add", "post", "/projects/{project}/members/", {"user": "{outsider}"}, stakeholder=404),
    Row("member-remove", "delete", "/projects/{project}/members/{contributor}/", stakeholder=404),
    # releases: the project named in the body is a field the user can't use, like an unknown id
    Row("releases-list", "get", "/releases/", outsider=200, stakeholder=200),
    Row("release-create", "post", "/releases/", {"project": "{project}", "name": "Sneaky"}, 400, 400),
    Row("release-get", "get", "/releases/{release}/", stakeholder=200),
    Row("release-patch", "patch", "/releases/{release}/", {"name": "Hacked"}, stakeholder=(403, "not_release_manager")),
    Row(
        "release-transition",
        "post",
        "/releases/{release}/transition/",
        {"to": "cancelled", "reason": "Not needed."},
        stakeholder=(403, "not_release_manager"),
    ),
    Row(
        "release-template-upgrade",
        "post",
        "/releases/{release}/template-upgrade/",
        {"template": "api-mini"},
        stakeholder=(403, "not_release_manager"),
    ),
    Row("release-audit", "get", "/releases/{release}/audit/", stakeholder=200),
    # phases
    Row("phases-list", "get", "/releases/{release}/phases/", stakeholder=200),
    Row(
        "phase-create",
        "post",
        "/releases/{release}/phases/",
        {"name": "Canary", "production": False},
        stakeholder=(403, "not_release_manager"),
    ),
    Row(
        "phase-transition",
        "post",
        "/phases/{phase}/transition/",
        {"to": "in_progress"},
        stakeholder=(403, "not_release_manager"),
    ),
    # freeze windows: the global ones are everyone's to read; the project's only its members'
    Row("freeze-list", "get", "/freeze-windows/", outsider=200, stakeholder=200),
    Row("freeze-create", "post", "/freeze-windows/", FREEZE, (403, "forbidden"), (403, "forbidden")),
    Row("freeze-get-global", "get", "/freeze-windows/{global_window}/", outsider=200, stakeholder=200),
    Row(
        "freeze-patch-global",
        "patch",
        "/freeze-windows/{global_window}/",
        {"name": "Hacked"},
        (403, "forbidden"),
        (403, "forbidden"),
    ),
    Row("freeze-delete-global", "delete", "/freeze-windows/{global_window}/", (403, "forbidden"), (403, "forbidden")),
    Row("freeze-get-project", "get", "/freeze-windows/{project_window}/", stakeholder=404),
    Row("freeze-patch-project", "patch", "/freeze-windows/{project_window}/", {"name": "Hacked"}, stakeholder=404),
    Row("freeze-delete-project", "delete", "/freeze-windows/{project_window}/", stakeholder=404),
]


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_anonymous_gets_401_everywhere(api, world, row):
    response = check_row(api(), row, world, 401)
    assert response.data["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_outsider_sees_nothing_of_the_project(api, world, row):
    check_row(api(world.outsider), row, world, row.outsider)


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_stakeholder_reads_the_release_and_writes_nothing(api, world, row):
    check_row(api(world.stakeholder), row, world, row.stakeholder)


def test_every_releases_endpoint_is_in_the_table():
    from releases.urls import api_urlpatterns

    assert routes_of(api_urlpatterns) <= routes_of(ROWS)


# --- what the outsider and the stakeholder see in the lists -------------------------------


def test_outsider_lists_are_empty_but_global_freeze_windows(api, world):
    client = api(world.outsider)
    assert client.get(f"{API}/projects/").data["count"] == 0
    assert client.get(f"{API}/releases/").data["count"] == 0
    windows = client.get(f"{API}/freeze-windows/").data["results"]
    assert [w["name"] for w in windows] == ["Year-end freeze"]


def test_outsider_gets_the_same_404_for_an_existing_and_a_missing_release(api, world):
    client = api(world.outsider)
    missing = Release.objects.order_by("-pk").first().pk + 1000
    for suffix in ("", "items/", "phases/", "audit/"):
        existing = client.get(f"{API}/releases/{world.release.pk}/{suffix}")
        absent = client.get(f"{API}/releases/{missing}/{suffix}")
        assert existing.status_code == absent.status_code == 404
        assert existing.data == absent.data
    for path in ("transition/", "template-upgrade/", "phases/"):
        body = {"to": "cancelled", "template": "api-mini", "name": "X"}
        existing = client.post(f"{API}/releases/{world.release.pk}/{path}", body, format="json")
        absent = client.post(f"{API}/releases/{missing}/{path}", body, format="json")
        assert existing.status_code == absent.status_code == 404
        assert existing.data == absent.data
    existing = client.patch(f"{API}/releases/{world.release.pk}/", {"name": "Hacked"}, format="json")
    absent = client.patch(f"{API}/releases/{missing}/", {"name": "Hacked"}, format="json")
    assert existing.status_code == absent.status_code == 404
    assert existing.data == absent.data
    assert Release.objects.get(pk=world.release.pk).name == "Billing"


def test_stakeholder_sees_the_release_in_lists_with_its_checklist_phases_and_audit(api, world):
    client = api(world.stakeholder)
    releases = client.get(f"{API}/releases/").data["results"]
    assert [r["id"] for r in releases] == [world.release.pk]
    assert world.stakeholder.pk in releases[0]["stakeholders"]
    assert [p["name"] for p in client.get(f"{API}/projects/").data["results"]] == ["Payments"]
    phases = client.get(f"{API}/releases/{world.release.pk}/phases/").data["results"]
    assert [p["name"] for p in phases] == ["Staging"]
    audit = [e["action"] for e in client.get(f"{API}/releases/{world.release.pk}/audit/").data["results"]]
    assert "release.created" in audit
    assert "signoff.approved" in audit


def test_stakeholder_removed_from_the_release_gets_404(api, world):
    response = api(world.manager).patch(f"{API}/releases/{world.release.pk}/", {"stakeholders": []}, format="json")
    assert response.status_code == 200
    assert response.data["stakeholders"] == []
    assert api(world.stakeholder).get(f"{API}/releases/{world.release.pk}/").status_code == 404


# --- release managers ----------------------------------------------------------------------


def test_release_manager_changes_the_release_and_moves_it(api, world):
    client = api(world.manager)
    response = client.patch(
        f"{API}/releases/{world.release.pk}/",
        {"name": "Billing 2", "managers": [world.manager.pk, world.qa.pk]},
        format="json",
    )
    assert response.status_code == 200
    assert response.data["name"] == "Billing 2"
    assert response.data["managers"] == sorted([world.manager.pk, world.qa.pk])

    response = client.post(f"{API}/releases/{world.release.pk}/phases/", {"name": "Canary 5 %"}, format="json")
    assert response.status_code == 201
    assert response.data["order"] == 2
    response = client.post(f"{API}/phases/{world.phase.pk}/transition/", {"to": "in_progress"}, format="json")
    assert response.status_code == 200
    assert response.data["state"] == "in_progress"

    response = client.post(
        f"{API}/releases/{world.release.pk}/transition/",
        {"to": "cancelled", "reason": "Merged into 2.1."},
        format="json",
    )
    assert response.status_code == 200
    assert response.data["state"] == "cancelled"
    assert response.data["state_reason"] == "Merged into 2.1."


def test_release_manager_opts_in_to_a_newer_template_version(api, world):
    edit = api(world.staff).patch(
        f"{API}/templates/{world.template.pk}/",
        {
            "sections": [
                *mini_template_data()["sections"],
                {
                    "title": "More",
                    "items": [{"title": "Canary watched", "category": "monitoring", "required_signoffs": 0}],
                },
            ]
        },
        format="json",
    )
    assert edit.status_code == 200, edit.data
    assert edit.data["version"] == 2

    response = api(world.manager).post(
        f"{API}/releases/{world.release.pk}/template-upgrade/", {"template": "api-mini"}, format="json"
    )
    assert response.status_code == 200, response.data
    assert response.data["to_version"] == 2
    assert response.data["added"] == ["Canary watched"]


def test_project_admin_creates_a_release_and_starts_it(api, world):
    client = api(world.manager)
    response = client.post(
        f"{API}/releases/",
        {
            "project": world.project.pk,
            "name": "Ledger",
            "go_live_at": in_days(20).isoformat(),
            "templates": ["api-mini"],
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["state"] == "draft"
    assert response.data["managers"] == [world.manager.pk]
    response = client.post(f"{API}/releases/{response.data['id']}/transition/", {"to": "in_progress"}, format="json")
    assert response.status_code == 200
    assert response.data["state"] == "in_progress"


MANAGER_ONLY = [
    Row("release-patch", "patch", "/releases/{release}/", {"name": "Hacked"}),
    Row("release-transition", "post", "/releases/{release}/transition/", {"to": "cancelled", "reason": "x"}),
    Row("release-template-upgrade", "post", "/releases/{release}/template-upgrade/", {"template": "api-mini"}),
    Row("phase-create", "post", "/releases/{release}/phases/", {"name": "Canary"}),
    Row("phase-transition", "post", "/phases/{phase}/transition/", {"to": "in_progress"}),
]


@pytest.mark.parametrize("row", MANAGER_ONLY, ids=str)
def test_project_member_who_does_not_manage_the_release_gets_403(api, world, row):
    check_row(api(world.contributor), row, world, (403, "not_release_manager"))


@pytest.mark.parametrize("row", MANAGER_ONLY, ids=str)
def test_other_project_admin_does_not_manage_a_release_they_did_not_get(api, world, row):
    admin = UserFactory(username="admin2")
    MembershipFactory(project=world.project, user=admin, role=ProjectMembership.Role.ADMIN)
    check_row(api(admin), row, world, (403, "not_release_manager"))


def test_project_member_cannot_create_a_release(api, world):
    before = db_fingerprint()
    response = api(world.contributor).post(
        f"{API}/releases/", {"project": world.project.pk, "name": "Sneaky"}, format="json"
    )
    assert response.status_code == 403
    assert response.data["code"] == "not_project_admin"
    assert db_fingerprint() == before


def test_manager_of_one_release_does_not_manage_another(api, world, manager):
    other = release_create(actor=manager, project=world.project, name="Other", go_live_at=in_days(30))
    response = api(world.manager).patch(
        f"{API}/releases/{world.release.pk}/", {"managers": [world.qa.pk]}, format="json"
    )
    assert response.status_code == 200
    assert response.data["managers"] == [world.qa.pk]
    response = api(world.manager).patch(f"{API}/releases/{world.release.pk}/", {"name": "Back"}, format="json")
    assert response.status_code == 403
    assert api(world.manager).patch(f"{API}/releases/{other.pk}/", {"name": "Mine"}, format="json").status_code == 200


# --- administrators ------------------------------------------------------------------------


def test_staff_create_projects_and_freeze_windows(api, world):
    client = api(world.staff)
    response = client.post(f"{API}/projects/", {"name": "Ledger"}, format="json")
    assert response.status_code == 201
    assert response.data["slug"] == "ledger"
    response = client.post(f"{API}/freeze-windows/", FREEZE, format="json")
    assert response.status_code == 201
    assert response.data["project"] is None
    response = client.patch(f"{API}/freeze-windows/{world.project_window.pk}/", {"name": "Renamed"}, format="json")
    assert response.status_code == 200
    assert response.data["name"] == "Renamed"
    assert client.delete(f"{API}/freeze-windows/{world.global_window.pk}/").status_code == 204


@pytest.mark.parametrize(
    "row",
    [
        Row("project-create", "post", "/projects/", {"name": "Ledger"}),
        Row("freeze-create", "post", "/freeze-windows/", FREEZE),
        Row("freeze-create-project", "post", "/freeze-windows/", {**FREEZE, "project": "{project}"}),
        Row("freeze-patch-project", "patch", "/freeze-windows/{project_window}/", {"name": "Renamed"}),
        Row("freeze-delete-project", "delete", "/freeze-windows/{project_window}/"),
    ],
    ids=str,
)
def test_project_admin_is_not_an_administrator(api, world, row):
    check_row(api(world.manager), row, world, (403, "forbidden"))


def test_project_admin_adds_and_removes_members(api, world):
    client = api(world.manager)
    response = client.post(
        f"{API}/projects/{world.project.pk}/members/", {"user": world.stakeholder.pk, "role": "member"}, format="json"
    )
    assert response.status_code == 201
    assert response.data["username"] == "stakeholder"
    assert api(world.stakeholder).get(f"{API}/projects/{world.project.pk}/").data["role"] == "member"

    assert client.delete(f"{API}/projects/{world.project.pk}/members/{world.stakeholder.pk}/").status_code == 204
    members = [m["username"] for m in client.get(f"{API}/projects/{world.project.pk}/members/").data["results"]]
    assert "stakeholder" not in members
    assert "contributor" in members

    # The project's only administrator can't leave it stranded.
    response = client.delete(f"{API}/projects/{world.project.pk}/members/{world.manager.pk}/")
    assert response.status_code == 409
    assert [f["code"] for f in response.data["failures"]] == ["last_project_admin"]
    assert api(world.manager).get(f"{API}/projects/{world.project.pk}/").data["role"] == "admin"

    response = client.patch(f"{API}/projects/{world.project.pk}/", {"description": "Invoices"}, format="json")
    assert response.status_code == 200
    assert response.data["description"] == "Invoices"


@pytest.mark.parametrize(
    "row",
    [
        Row("member-add", "post", "/projects/{project}/members/", {"user": "{stakeholder}"}),
        Row("member-remove", "delete", "/projects/{project}/members/{qa}/"),
        Row("project-patch", "patch", "/projects/{project}/", {"name": "Hacked"}),
    ],
    ids=str,
)
def test_plain_member_cannot_administer_the_project(api, world, row):
    check_row(api(world.contributor), row, world, (403, "not_project_admin"))


def test_plain_member_reads_the_project_and_its_members(api, world):
    client = api(world.contributor)
    assert client.get(f"{API}/projects/{world.project.pk}/").data["role"] == "member"
    members = client.get(f"{API}/projects/{world.project.pk}/members/").data["results"]
    assert {m["username"]: m["role"] for m in members}["manager"] == "admin"
