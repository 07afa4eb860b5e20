"""The profile page's go-live calendar: its secret URL shown to copy, and rotated."""

from __future__ import annotations

import re

from notifications.models import Profile


def _shown_url(content: bytes) -> str:
    found = re.search(rb'id="calendar-url" value="([^"]+)"', content)
    assert found, content
    return found.group(1).decode()


def test_the_profile_shows_the_calendar_url_and_rotates_it(client, release, manager):
    client.force_login(manager)

    page = client.get("/profile/")
    url = _shown_url(page.content)
    token = Profile.objects.get(user=manager).calendar_token
    assert url == f"http://testserver/api/v1/calendar/{token}.ics"
    assert b"Rotate calendar URL" in page.content
    assert client.get(url.removeprefix("http://testserver")).status_code == 200
    # The page shows the same URL each time.
    assert _shown_url(client.get("/profile/").content) == url

    rotated = client.post("/profile/calendar/", follow=True)

    new = _shown_url(rotated.content)
    assert new != url
    assert b"Your calendar URL is new" in rotated.content
    assert client.get(url.removeprefix("http://testserver")).status_code == 404
    assert client.get(new.removeprefix("http://testserver")).status_code == 200


def test_rotating_is_a_post_by_a_signed_in_person(client, manager):
    assert client.post("/profile/calendar/").status_code == 302  # to the sign-in page
    assert not Profile.objects.filter(user=manager, calendar_token__isnull=False).exists()
    client.force_login(manager)
    assert client.get("/profile/calendar/").status_code == 405
