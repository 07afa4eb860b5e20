"""Signing in and out in the browser; `/` is the login page for a stranger and the dashboard
for a signed-in person."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser import login, serious_accessibility_violations

pytestmark = pytest.mark.django_db(transaction=True)


def test_stranger_at_the_root_gets_the_login_page_and_lands_on_the_dashboard(page: Page, live_server, manager):
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Log in to Shipcheck")).to_be_visible()
    assert serious_accessibility_violations(page) == []
    login(page, live_server, "manager")
    assert page.url == f"{live_server.url}/"
    expect(page.get_by_role("link", name="Releases")).to_be_visible()


def test_wrong_password_says_so_and_keeps_the_username(page: Page, live_server, manager):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".errorlist")).to_contain_text("correct username and password")
    expect(page.get_by_label("Username")).to_have_value("manager")


def test_log_out_from_the_user_menu(page: Page, live_server, manager):
    login(page, live_server, "manager")
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in to Shipcheck")).to_be_visible()
    page.goto(f"{live_server.url}/releases/")
    expect(page.get_by_role("heading", name="Log in to Shipcheck")).to_be_visible()
