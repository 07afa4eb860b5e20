"""Who may do what through the API with checklist items, sign-offs and delegations:
anonymous → 401; an outsider (who holds every approver role) → 404 for the release's items
and sign-offs; a stakeholder reads the checklist but every write is 403 and changes nothing;
managers add and assign items, assignees work their own items, approvers sign with their
role, and each person sees and cancels only their own delegations."""

import datetime as dt

import pytest
from django.utils import timezone

from approvals.models import ChecklistItem, Delegation, SignOff
from approvals.services import item_update

from .. import api_fixtures
from ..api_fixtures import API, Row, check_row, db_fingerprint, routes_of
from ..factories import in_days

api, world = api_fixtures.api, api_fixtures.world  # the fixtures this module uses

DELEGATION = {"delegate": "{qa2}", "role": "QA", "starts_at": "2031-07-01T00:00:00+02:00"}

ROWS = [
    Row("items-list", "get", "/releases/{release}/items/", stakeholder=200),
    Row(
        "item-create",
        "post",
        "/releases/{release}/items/",
        {"title": "Sneaky item", "category": "security"},
        stakeholder=(403, "not_release_manager"),
    ),
    Row("item-get", "get", "/items/{item}/", stakeholder=200),
    Row("item-patch", "patch", "/items/{item}/", {"note": "Looks fine to me."}, stakeholder=(403, "not_assignee")),
    Row(
        "item-assign",
        "patch",
        "/items/{item}/",
        {"assignee": "{stakeholder}"},
        stakeholder=(403, "not_assignee"),
    ),
    Row(
        "signoff-create",
        "post",
        "/items/{item}/signoffs/",
        {"decision": "approve"},
        stakeholder=(403, "missing_role"),
    ),
    Row(
        "signoff-reject",
        "post",
        "/items/{item}/signoffs/",
        {"decision": "reject", "comment": "No."},
        stakeholder=(403, "missing_role"),
    ),
    Row(
        "signoff-revoke",
        "post",
        "/signoffs/{signoff}/revoke/",
        {"reason": "Changed my mind."},
        stakeholder=(403, "not_signoff_owner"),
    ),
    # delegations are the user's own: someone else's is not there for them
    Row("delegations-list", "get", "/delegations/", outsider=200, stakeholder=200),
    Row(
        "delegation-create",
        "post",
        "/delegations/",
        {**DELEGATION, "ends_at": "2031-07-10T00:00:00+02:00"},
        outsider=201,  # the outsider holds QA: a delegation is theirs to make, tied to no release
        stakeholder=(403, "missing_role"),
    ),
    Row("delegation-cancel", "delete", "/delegations/{delegation}/", stakeholder=404),
]


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_anonymous_gets_401_everywhere(api, world, row):
    response = check_row(api(), row, world, 401)
    assert response.data["code"] == "not_authenticated"


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_outsider_sees_nothing_of_the_checklist(api, world, row):
    check_row(api(world.outsider), row, world, row.outsider)


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_stakeholder_reads_the_checklist_and_writes_nothing(api, world, row):
    check_row(api(world.stakeholder), row, world, row.stakeholder)


def test_every_approvals_endpoint_is_in_the_table():
    from approvals.urls import api_urlpatterns

    assert routes_of(api_urlpatterns) <= routes_of(ROWS)


def test_outsider_gets_the_same_404_for_existing_and_missing_items_and_signoffs(api, world):
    client = api(world.outsider)
    missing_item = ChecklistItem.objects.order_by("-pk").first().pk + 1000
    missing_signoff = SignOff.objects.order_by("-pk").first().pk + 1000
    pairs = [
        ("get", f"/items/{world.item.pk}/", f"/items/{missing_item}/", None),
        ("patch", f"/items/{world.item.pk}/", f"/items/{missing_item}/", {"note": "x"}),
        ("post", f"/items/{world.item.pk}/signoffs/", f"/items/{missing_item}/signoffs/", {"decision": "approve"}),
        ("post", f"/signoffs/{world.signoff.pk}/revoke/", f"/signoffs/{missing_signoff}/revoke/", {"reason": "x"}),
        ("delete", f"/delegations/{world.delegation.pk}/", f"/delegations/{missing_signoff}/", None),
    ]
    for method, existing_path, missing_path, body in pairs:
        existing = getattr(client, method)(API + existing_path, body, format="json")
        absent = getattr(client, method)(API + missing_path, body, format="json")
        assert existing.status_code == absent.status_code == 404, existing_path
        assert existing.data == absent.data


def test_stakeholder_sees_items_with_their_signoffs(api, world):
    client = api(world.stakeholder)
    items = client.get(f"{API}/releases/{world.release.pk}/items/").data["results"]
    assert [i["title"] for i in items] == ["Smoke test passes", "Docs updated", "Regression tests"]
    signed = client.get(f"{API}/items/{world.item.pk}/").data
    assert signed["is_ready"] is True
    assert [(s["approver_username"], s["decision"], s["stale"]) for s in signed["signoffs"]] == [
        ("qa", "approve", False)
    ]


# --- release managers ----------------------------------------------------------------------


def test_release_manager_adds_and_assigns_items(api, world):
    client = api(world.manager)
    response = client.post(
        f"{API}/releases/{world.release.pk}/items/",
        {"title": "Pen test", "category": "security", "approver_role": "Security", "assignee": world.contributor.pk},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["approver_role"] == "Security"
    assert response.data["required_signoffs"] == 1
    assert response.data["assignee_username"] == "contributor"
    assert response.data["is_adhoc"] is True

    response = client.patch(
        f"{API}/items/{response.data['id']}/", {"assignee": world.qa2.pk, "title": "Penetration test"}, format="json"
    )
    assert response.status_code == 200
    assert response.data["assignee_username"] == "qa2"
    assert response.data["title"] == "Penetration test"


@pytest.mark.parametrize(
    "row",
    [
        Row("item-create", "post", "/releases/{release}/items/", {"title": "Extra"}),
        Row("item-assign", "patch", "/items/{item}/", {"assignee": "{contributor}"}),
        Row("item-title", "patch", "/items/{item}/", {"title": "Renamed"}),
    ],
    ids=str,
)
def test_project_member_who_does_not_manage_the_release_cannot_change_the_checklist(api, world, row):
    check_row(api(world.qa2), row, world, (403, "not_release_manager" if row.method == "post" else "not_assignee"))


# --- contributors --------------------------------------------------------------------------


@pytest.fixture
def open_item(world):
    """An item assigned to the contributor, not started."""
    return ChecklistItem.objects.get(release=world.release, source_key="smoke")


def test_assignee_works_their_item(api, world, open_item):
    open_item.assignee = world.contributor
    open_item.save(update_fields=["assignee"])
    client = api(world.contributor)
    response = client.patch(f"{API}/items/{open_item.pk}/", {"state": "in_progress"}, format="json")
    assert response.status_code == 200
    assert response.data["state"] == "in_progress"
    response = client.patch(
        f"{API}/items/{open_item.pk}/",
        {"state": "done", "evidence_url": "https://ci.example.com/build/7", "note": "Green on main."},
        format="json",
    )
    assert response.status_code == 200, response.data
    assert response.data["state"] == "done"
    assert response.data["evidence_url"] == "https://ci.example.com/build/7"
    assert response.data["note"] == "Green on main."
    assert response.data["completed_by"] == world.contributor.pk


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"title": "Renamed"}, "not_release_manager"),
        ({"required": False}, "not_release_manager"),
        ({"assignee": None}, "not_release_manager"),
        ({"note": "fine", "due_at": "2031-01-01T00:00:00+00:00"}, "not_release_manager"),
    ],
)
def test_assignee_cannot_change_what_only_managers_change(api, world, body, code):
    row = Row("item-patch", "patch", "/items/{item}/", body)
    check_row(api(world.contributor), row, world, (403, code))


def test_contributor_cannot_work_an_item_assigned_to_someone_else(api, world, open_item):
    row = Row("item-patch", "patch", f"/items/{open_item.pk}/", {"state": "in_progress"})
    check_row(api(world.contributor), row, world, (403, "not_assignee"))


# --- approvers -----------------------------------------------------------------------------


def test_a_signoff_says_whether_it_counts_now(api, world):
    """`counts` agrees with the item's count of valid approvals: an approval by someone who
    became the item's assignee stops counting without being stale; a revoked one keeps its
    staleness but counts no more."""
    item = world.item  # done by contributor, approved by qa
    client = api(world.manager)

    def item_now():
        return client.get(f"{API}/items/{item.pk}/").data

    data = item_now()
    assert data["valid_approvals"] == 1
    assert [(s["stale"], s["counts"]) for s in data["signoffs"]] == [(False, True)]

    assert client.patch(f"{API}/items/{item.pk}/", {"assignee": world.qa.pk}, format="json").status_code == 200
    data = item_now()
    assert (data["valid_approvals"], data["is_signed"]) == (0, False)
    assert [(s["stale"], s["counts"]) for s in data["signoffs"]] == [(False, False)]

    assert client.patch(f"{API}/items/{item.pk}/", {"assignee": world.contributor.pk}, format="json").status_code == 200
    assert [(s["stale"], s["counts"]) for s in item_now()["signoffs"]] == [(False, True)]

    changed = client.patch(f"{API}/items/{item.pk}/", {"evidence_url": "https://ci.example.com/build/2"}, format="json")
    assert changed.status_code == 200
    assert [(s["stale"], s["counts"]) for s in item_now()["signoffs"]] == [(True, False)]
    revoked = api(world.qa).post(f"{API}/signoffs/{world.signoff.pk}/revoke/", {"reason": "Old build."}, format="json")
    assert revoked.status_code == 200
    assert (revoked.data["stale"], revoked.data["revoked"], revoked.data["counts"]) == (True, True, False)


def test_approver_signs_once_and_revokes_only_their_own(api, world):
    item = world.item  # done, approved by qa; qa2 adds their approval
    qa2 = api(world.qa2)
    response = qa2.post(f"{API}/items/{item.pk}/signoffs/", {"decision": "approve", "comment": "OK"}, format="json")
    assert response.status_code == 201, response.data
    assert response.data["approver_username"] == "qa2"
    assert response.data["role"] == "QA"
    assert response.data["stale"] is False

    again = qa2.post(f"{API}/items/{item.pk}/signoffs/", {"decision": "approve"}, format="json")
    assert again.status_code == 409
    assert again.data["code"] == "already_signed"
    assert [f["code"] for f in again.data["failures"]] == ["already_signed"]
    assert SignOff.objects.filter(item=item, approver=world.qa2).count() == 1

    signoff_id = response.data["id"]
    row = Row("signoff-revoke", "post", f"/signoffs/{signoff_id}/revoke/", {"reason": "Not mine to revoke."})
    check_row(api(world.qa), row, world, (403, "not_signoff_owner"))

    response = qa2.post(f"{API}/signoffs/{signoff_id}/revoke/", {"reason": "Signed too early."}, format="json")
    assert response.status_code == 200
    assert response.data["revoked"] is True
    assert response.data["revoked_reason"] == "Signed too early."


def test_approver_without_the_role_gets_403(api, world):
    row = Row("signoff-create", "post", "/items/{item}/signoffs/", {"decision": "approve"})
    check_row(api(world.security), row, world, (403, "missing_role"))


def test_assignee_holding_the_role_cannot_sign_their_own_item(api, world, qa2):
    world.item.assignee = qa2
    world.item.save(update_fields=["assignee"])
    row = Row("signoff-create", "post", "/items/{item}/signoffs/", {"decision": "approve"})
    check_row(api(qa2), row, world, (403, "separation_of_duties"))


def test_approver_signs_as_delegate_of_an_approver_away(api, world):
    # New evidence: qa's approval goes stale, and qa is away.
    item = item_update(item=world.item, actor=world.contributor, evidence_url="https://ci.example.com/build/2")
    response = api(world.qa2).post(
        f"{API}/items/{item.pk}/signoffs/", {"decision": "approve", "on_behalf_of": world.qa.pk}, format="json"
    )
    assert response.status_code == 201, response.data
    assert (response.data["approver_username"], response.data["signed_by_username"]) == ("qa", "qa2")
    assert response.data["on_behalf"] is True
    signoffs = api(world.manager).get(f"{API}/items/{item.pk}/").data["signoffs"]
    assert [(s["signed_by_username"], s["stale"]) for s in signoffs] == [("qa", True), ("qa2", False)]


# --- delegations ---------------------------------------------------------------------------


def test_delegations_list_only_the_users_own(api, world, security):
    Delegation.objects.create(
        delegator=world.outsider,
        delegate=world.qa,
        role=world.item.approver_role,
        starts_at=timezone.now(),
        ends_at=in_days(3),
    )
    mine = api(world.qa).get(f"{API}/delegations/").data["results"]
    assert sorted((d["delegator"], d["delegate"]) for d in mine) == sorted(
        [(world.qa.pk, world.qa2.pk), (world.outsider.pk, world.qa.pk)]
    )
    received = api(world.qa2).get(f"{API}/delegations/").data["results"]
    assert [(d["delegator"], d["delegate"]) for d in received] == [(world.qa.pk, world.qa2.pk)]
    assert api(security).get(f"{API}/delegations/").data["results"] == []


def test_delegator_creates_and_cancels_their_delegation(api, world):
    client = api(world.qa)
    starts = timezone.now() + dt.timedelta(days=1)
    response = client.post(
        f"{API}/delegations/",
        {
            "delegate": world.qa2.pk,
            "role": "QA",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + dt.timedelta(days=7)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["active"] is False
    assert client.delete(f"{API}/delegations/{response.data['id']}/").status_code == 204
    cancelled = Delegation.objects.get(pk=response.data["id"])
    assert cancelled.cancelled_at is not None


@pytest.mark.parametrize("who", ["security", "outsider"])
def test_someone_elses_delegation_cannot_be_cancelled(api, world, who):
    """Anyone who is not part of the delegation doesn't see it: 404."""
    before = db_fingerprint()
    response = api(getattr(world, who)).delete(f"{API}/delegations/{world.delegation.pk}/")
    assert response.status_code == 404
    assert response.data["code"] == "not_found"
    assert db_fingerprint() == before


def test_the_delegate_sees_the_delegation_but_cannot_cancel_it(api, world):
    before = db_fingerprint()
    response = api(world.qa2).delete(f"{API}/delegations/{world.delegation.pk}/")
    assert response.status_code == 403
    assert response.data["code"] == "not_delegator"
    assert db_fingerprint() == before
