"""The profile page's go-live calendar: its secret URL shown to copy, and rotated."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from notifications.models import Profile
from tests.browser import login, serious_accessibility_violations


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


@pytest.mark.django_db(transaction=True)
def test_in_the_browser_the_url_is_shown_to_copy_and_rotated(page: Page, live_server, scenario, manager, release):
    login(page, live_server, "manager")
    page.goto(f"{live_server.url}/profile/")

    calendar = page.get_by_role("region", name="Go-live calendar")
    field = calendar.get_by_label("Your calendar URL")
    first = field.input_value()
    assert first.startswith(f"{live_server.url}/api/v1/calendar/")
    assert first.endswith(".ics")
    expect(calendar.get_by_text("Subscribe to this address")).to_be_visible()
    expect(calendar.get_by_role("button", name="Copy")).to_be_visible()  # localhost: the clipboard is there
    assert serious_accessibility_violations(page) == []

    calendar.get_by_role("button", name="Rotate calendar URL").click()

    expect(page.get_by_text("Your calendar URL is new")).to_be_visible()
    second = page.get_by_role("region", name="Go-live calendar").get_by_label("Your calendar URL").input_value()
    assert second != first
    assert second == f"{live_server.url}/api/v1/calendar/{Profile.objects.get(user=manager).calendar_token}.ics"
