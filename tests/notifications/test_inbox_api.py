"""The in-app inbox and preferences through the API."""

import pytest

from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def told(scenario, make_item, contributor, qa, qa2, done):
    """qa and qa2 are told two items wait for their sign-off."""
    for title in ("Backups", "Runbook"):
        done(make_item(title=title, assignee=contributor, role="QA"))


def _login(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def test_inbox_lists_my_notifications_newest_first_with_text_and_link(api_client, told, qa):
    answer = _login(api_client, qa).get("/api/v1/notifications/")
    assert answer.status_code == 200
    rows = answer.json()["results"]
    assert [row["text"] for row in rows] == [
        "“Runbook” waits for sign-off by QA",
        "“Backups” waits for sign-off by QA",
    ]
    assert rows[0]["url"].startswith("http://127.0.0.1:8000/items/")
    assert rows[0]["event"] == "item_awaiting_signoff"
    assert rows[0]["read_at"] is None


def test_mark_read_and_read_all(api_client, told, qa):
    client = _login(api_client, qa)
    first = client.get("/api/v1/notifications/").json()["results"][0]
    answer = client.post(f"/api/v1/notifications/{first['id']}/read/")
    assert answer.status_code == 200
    assert answer.json()["read_at"] is not None
    unread = client.get("/api/v1/notifications/?unread=true").json()
    assert unread["count"] == 1
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 1}
    assert client.get("/api/v1/notifications/?unread=true").json()["count"] == 0
    assert client.get("/api/v1/notifications/?unread=maybe").status_code == 400


def test_outsider_sees_nothing_of_anothers_inbox(api_client, told, qa, outsider):
    theirs = Notification.objects.filter(user=qa, channel="inbox").first()
    client = _login(api_client, outsider)
    assert client.get("/api/v1/notifications/").json()["count"] == 0
    assert client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_inbox_needs_authentication(api_client):
    assert api_client.get("/api/v1/notifications/").status_code == 401


def test_preferences_read_and_changed_through_me(api_client, qa):
    client = _login(api_client, qa)
    preferences = client.get("/api/v1/me/").json()["preferences"]
    assert preferences["item_awaiting_signoff"] == "immediate"
    assert preferences["release_go_live"] == "immediate"
    answer = client.patch(
        "/api/v1/me/", {"preferences": {"item_awaiting_signoff": "digest", "signoff_stale": "off"}}, format="json"
    )
    assert answer.status_code == 200
    assert answer.json()["preferences"]["item_awaiting_signoff"] == "digest"
    assert answer.json()["preferences"]["signoff_stale"] == "off"


@pytest.mark.parametrize(
    "preferences",
    [{"release_go_live": "off"}, {"release_cancelled": "digest"}, {"no_such_event": "off"}, {"item_assigned": "loud"}],
)
def test_bad_or_critical_preferences_are_refused_and_nothing_changes(api_client, qa, preferences):
    client = _login(api_client, qa)
    before = client.get("/api/v1/me/").json()["preferences"]
    answer = client.patch("/api/v1/me/", {"preferences": {"item_assigned": "off", **preferences}}, format="json")
    assert answer.status_code == 400
    assert "preferences" in answer.json()
    assert client.get("/api/v1/me/").json()["preferences"] == before
