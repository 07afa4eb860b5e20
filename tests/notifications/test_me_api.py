"""GET/PATCH /api/v1/me/ and POST /api/v1/me/calendar-token/: the signed-in person's own
settings and the secret URL of their go-live calendar."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from notifications.models import Profile

API = "/api/v1"


@pytest.fixture
def me(manager):
    client = APIClient()
    client.force_authenticate(manager)
    return client


def test_me_says_who_i_am_with_a_calendar_url_that_opens_my_feed(me, manager, release):
    body = me.get(f"{API}/me/").json()

    assert body["id"] == manager.pk
    assert body["username"] == "manager"
    assert body["email"] == manager.email
    assert body["language"] == ""
    assert body["time_zone"] == ""
    assert body["calendar_url"].startswith("http://testserver/api/v1/calendar/")
    assert body["calendar_url"].endswith(".ics")
    # The same URL on every read, and it opens the feed without signing in.
    assert me.get(f"{API}/me/").json()["calendar_url"] == body["calendar_url"]
    feed = APIClient().get(body["calendar_url"].removeprefix("http://testserver"))
    assert feed.status_code == 200
    assert b"Billing 2.0" in feed.content


def test_patch_sets_language_time_zone_and_email(me, manager):
    response = me.patch(
        f"{API}/me/", {"language": "cs", "time_zone": "Europe/Prague", "email": "m@example.org"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["language"], body["time_zone"], body["email"]) == ("cs", "Europe/Prague", "m@example.org")
    profile = Profile.objects.get(user=manager)
    assert (profile.language, profile.time_zone) == ("cs", "Europe/Prague")
    manager.refresh_from_db()
    assert manager.email == "m@example.org"


def test_patch_of_one_field_leaves_the_others(me, manager):
    me.patch(f"{API}/me/", {"language": "cs", "time_zone": "Europe/Prague"}, format="json")

    body = me.patch(f"{API}/me/", {"time_zone": ""}, format="json").json()

    assert (body["language"], body["time_zone"], body["email"]) == ("cs", "", "manager@example.com")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"language": "klingon"}, "language"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"email": "not an address"}, "email"),
        ({"language": 5}, "language"),
        ({"time_zone": ["Europe/Prague"]}, "time_zone"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(me, manager, data, field):
    response = me.patch(f"{API}/me/", data, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Profile.objects.filter(user=manager).exclude(language="", time_zone="").exists()


def test_rotating_returns_the_new_url_and_the_old_one_stops(me, release):
    old = me.get(f"{API}/me/").json()["calendar_url"]

    response = me.post(f"{API}/me/calendar-token/")

    assert response.status_code == 200
    new = response.json()["calendar_url"]
    assert new != old
    assert me.get(f"{API}/me/").json()["calendar_url"] == new
    anonymous = APIClient()
    assert anonymous.get(old.removeprefix("http://testserver")).status_code == 404
    assert anonymous.get(new.removeprefix("http://testserver")).status_code == 200


@pytest.mark.parametrize(("method", "path"), [("get", "/me/"), ("patch", "/me/"), ("post", "/me/calendar-token/")])
def test_without_signing_in_it_is_a_401(db, method, path):
    response = getattr(APIClient(), method)(f"{API}{path}", {}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_an_outsider_sees_only_themselves(outsider, release):
    client = APIClient()
    client.force_authenticate(outsider)

    body = client.get(f"{API}/me/").json()

    assert body["username"] == "outsider"
    feed = APIClient().get(body["calendar_url"].removeprefix("http://testserver"))
    assert feed.status_code == 200
    assert b"Billing" not in feed.content
