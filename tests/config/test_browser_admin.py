"""The Django admin works in a real browser for an administrator, and refuses others."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_user():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def _login(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")


def test_administrator_logs_in_and_sees_the_builtin_templates(page: Page, live_server, admin_user):
    _login(page, live_server, "root")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"{live_server.url}/admin/checklists/checklisttemplate/")
    expect(page.locator("#result_list")).to_contain_text("Release readiness")
    expect(page.locator("#result_list")).to_contain_text("Nasazení do produkce")


def test_non_staff_user_cannot_enter_the_admin(page: Page, live_server):
    UserFactory(username="dev")
    _login(page, live_server, "dev")
    expect(page.locator(".errornote")).to_have_text(re.compile("staff account", re.I))
