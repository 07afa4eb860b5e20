"""The profile page: language and time zone through profile_update, and the API token shown
once right after it is made."""

import datetime as dt

import pytest
from playwright.sync_api import Page, expect
from rest_framework.authtoken.models import Token

from tests.browser import login, serious_accessibility_violations

pytestmark = pytest.mark.django_db(transaction=True)


def test_czech_and_prague_make_the_pages_czech_and_times_prague(page: Page, live_server, scenario, qa):
    from notifications.services import api_token_issue

    api_token_issue(user=qa)
    Token.objects.filter(user=qa).update(created=dt.datetime(2030, 1, 10, 12, 0, tzinfo=dt.UTC))
    login(page, live_server, "qa")
    page.goto(f"{live_server.url}/profile/")
    expect(page.get_by_role("heading", name="Profile and API token")).to_be_visible()
    assert serious_accessibility_violations(page) == []
    settings = page.get_by_role("region", name="Language and time zone")
    settings.get_by_role("combobox", name="Language").select_option("cs")
    settings.get_by_role("combobox", name="Time zone").select_option("Europe/Prague")
    settings.get_by_role("button", name="Save").click()

    expect(page.locator("html")).to_have_attribute("lang", "cs")
    # The page is Czech now: the same select, by its Czech label.
    czech = page.get_by_role("region", name="Jazyk a časové pásmo")
    expect(czech.get_by_role("combobox", name="Časové pásmo")).to_have_value("Europe/Prague")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies["django_language"] == "cs"
    created = page.locator("#token-created")
    expect(created).to_contain_text("13:00")  # 12:00 UTC in Prague (winter time)
    page.goto(f"{live_server.url}/delegations/")
    expect(page.locator("html")).to_have_attribute("lang", "cs")


def test_back_to_browser_default_forgets_the_language_cookie(client, scenario, qa):
    client.force_login(qa)
    client.post("/profile/", {"language": "cs", "time_zone": ""})
    assert client.cookies["django_language"].value == "cs"
    response = client.post("/profile/", {"language": "", "time_zone": ""}, follow=True)
    assert client.cookies["django_language"].value == ""
    assert b'<html lang="en">' in response.content


def test_unknown_time_zone_is_a_form_error_that_keeps_the_language(client, scenario, qa):
    client.force_login(qa)
    response = client.post("/profile/", {"language": "cs", "time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "time_zone" in response.context["form"].errors
    assert response.context["form"]["language"].value() == "cs"


def test_the_token_is_shown_once_then_only_that_it_exists(page: Page, live_server, scenario, qa):
    login(page, live_server, "qa")
    page.goto(f"{live_server.url}/profile/")
    expect(page.get_by_text("You have no token yet.")).to_be_visible()
    page.get_by_role("button", name="Create token").click()

    shown = page.get_by_label("Your new token (copy it now: it is not shown again)")
    first = Token.objects.get(user=qa).key
    expect(shown).to_have_value(first)
    assert serious_accessibility_violations(page) == []

    page.reload()
    expect(page.get_by_text("A token exists, created")).to_be_visible()
    expect(page.get_by_label("Your new token (copy it now: it is not shown again)")).to_have_count(0)
    assert first not in page.content()
    expect(page.get_by_text("every client still using the old token stops working")).to_be_visible()

    page.get_by_role("button", name="Rotate token").click()
    second = Token.objects.get(user=qa).key
    assert second != first
    expect(shown).to_have_value(second)
    assert list(Token.objects.filter(user=qa).values_list("key", flat=True)) == [second]


def test_the_api_token_endpoint_rotates_through_the_same_service(client, scenario, qa):
    from tests.factories import PASSWORD

    made = client.post("/api/v1/auth/token/", {"username": "qa", "password": PASSWORD}, content_type="application/json")
    same = client.post("/api/v1/auth/token/", {"username": "qa", "password": PASSWORD}, content_type="application/json")
    rotated = client.post(
        "/api/v1/auth/token/", {"username": "qa", "password": PASSWORD, "rotate": True}, content_type="application/json"
    )
    assert made.json()["token"] == same.json()["token"] != rotated.json()["token"]
    assert Token.objects.get(user=qa).key == rotated.json()["token"]
