"""Through the API, the go/no-go flows the permission tables only touch: a rejection sending
an item back, and approving inside a freeze window with and without the override."""

from rest_framework.test import APIClient

from .conftest import fresh

API = "/api/v1"


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_rejection_sends_the_item_back_until_it_is_done_again(ready_item, contributor, qa2, manager):
    approver = _client(qa2)
    url = f"{API}/items/{ready_item.pk}/signoffs/"

    refused = approver.post(url, {"decision": "reject"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["comment"]

    response = approver.post(url, {"decision": "reject", "comment": "The load test report is missing."}, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["decision"], response.json()["counts"]) == ("reject", True)
    item = _client(manager).get(f"{API}/items/{ready_item.pk}/").json()
    assert (item["state"], item["has_rejection"], item["is_ready"]) == ("in_progress", True, False)

    # Reworked and done again: the rejection no longer stands, and the same approver may approve.
    done = _client(contributor).patch(
        f"{API}/items/{ready_item.pk}/",
        {"state": "done", "evidence_url": "https://ci.example.com/load-test"},
        format="json",
    )
    assert done.status_code == 200, done.json()
    assert done.json()["has_rejection"] is False
    again = approver.post(url, {"decision": "approve", "comment": "Report attached now."}, format="json")
    assert again.status_code == 201, again.json()
    item = _client(manager).get(f"{API}/items/{ready_item.pk}/").json()
    assert (item["state"], item["valid_approvals"], item["is_ready"]) == ("done", 1, True)


def test_approving_inside_a_freeze_window_needs_the_override(ready_release, freeze_over_go_live, manager, overrider):
    url = f"{API}/releases/{ready_release.pk}/transition/"

    refused = _client(manager).post(url, {"to": "approved"}, format="json")
    assert refused.status_code == 409
    assert [f["code"] for f in refused.json()["failures"]] == ["freeze_window"]

    no_reason = _client(overrider).post(url, {"to": "approved", "override_freeze": True}, format="json")
    assert no_reason.status_code == 409
    assert [f["code"] for f in no_reason.json()["failures"]] == ["freeze_window", "override_reason_missing"]
    assert fresh(ready_release).state == "in_progress"

    response = _client(overrider).post(
        url, {"to": "approved", "override_freeze": True, "reason": "Security fix; CAB approved."}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["freeze_override_reason"]) == ("approved", "Security fix; CAB approved.")
    audit = _client(manager).get(f"{API}/releases/{ready_release.pk}/audit/").json()["results"]
    assert audit[0]["action"] == "release.approved"


def test_the_override_is_refused_to_a_manager_without_the_permission(ready_release, freeze_over_go_live, manager):
    response = _client(manager).post(
        f"{API}/releases/{ready_release.pk}/transition/",
        {"to": "approved", "override_freeze": True, "reason": "Trust me."},
        format="json",
    )
    assert response.status_code == 409
    assert [f["code"] for f in response.json()["failures"]] == ["freeze_window", "override_not_permitted"]
    assert fresh(ready_release).state == "in_progress"
