"""The core flow of a release in the browser, each person in their own browser, through the
UI only: the manager creates it from two templates and assigns the items, the contributor
works them (an uploaded evidence file, a comment), the approver approves one and rejects
another, the manager watches readiness move without reloading, the go/no-go panel says what
is missing, and the release is approved, goes live through its phases and completes."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from approvals.models import ChecklistItem, Comment
from releases.models import Release
from tests.browser import login, serious_accessibility_violations

pytestmark = pytest.mark.django_db(transaction=True)

WEB = {
    "slug": "web-checks",
    "name": "Web checks",
    "sections": [{"title": "Testing", "items": [
        {"key": "smoke", "title": "Smoke test passes", "category": "functional_testing", "approver_role": "QA",
         "required_signoffs": 1, "evidence_required": True, "due_offset_days": -2},
        {"key": "load", "title": "Load test", "category": "performance", "approver_role": "QA",
         "required_signoffs": 1, "due_offset_days": -3},
    ]}],
}  # fmt: skip
OPS = {
    "slug": "ops-checks",
    "name": "Ops checks",
    "sections": [{"title": "Operations", "items": [
        {"key": "backup", "title": "Backup taken", "category": "data_backup", "approver_role": "QA",
         "required_signoffs": 1, "due_offset_days": -1},
    ]}],
}  # fmt: skip


@pytest.fixture
def templates(scenario, staff):
    return scenario.custom_template(WEB), scenario.custom_template(OPS)


def _person(browser: Browser, live_server, username: str) -> Page:
    page = browser.new_context().new_page()
    login(page, live_server, username)
    return page


def _open_item(page: Page, live_server, title: str) -> None:
    item = ChecklistItem.objects.get(title=title)
    page.goto(f"{live_server.url}/items/{item.pk}/")
    expect(page.get_by_role("heading", name=title)).to_be_visible()


def _work(page: Page, live_server, title: str, *, evidence_url: str = "", file: dict | None = None) -> None:
    _open_item(page, live_server, title)
    page.get_by_label("Status").select_option("done")
    if evidence_url:
        page.get_by_label("Evidence link").fill(evidence_url)
    if file:
        page.get_by_label(re.compile("^Evidence file")).set_input_files(file)
    page.get_by_role("button", name="Save").first.click()
    expect(page.locator(".item-panel .badge").first).to_have_text("Done")


def _sign(page: Page, live_server, title: str, decision: str = "Approve", comment: str = "") -> None:
    _open_item(page, live_server, title)
    if comment:
        page.get_by_label("Sign-off comment").fill(comment)
    page.get_by_role("button", name=decision, exact=True).click()
    expect(page.locator(".item-panel .messages")).to_be_visible()


def _create_release(page: Page, live_server) -> Release:
    page.get_by_role("link", name="Releases").click()
    page.get_by_role("link", name="New release").click()
    page.get_by_label("Project").select_option(label="Billing")
    page.get_by_label("Name").fill("Checkout")
    page.get_by_label("Version").fill("3.0")
    go_live = timezone.localtime() + dt.timedelta(days=10)
    page.get_by_label("Go-live").fill(go_live.strftime("%Y-%m-%dT10:00"))
    page.get_by_label("Web checks").check()
    page.get_by_label("Ops checks").check()
    page.get_by_label("Rollback plan").fill("Redeploy 2.9 from its tag.")
    page.get_by_role("button", name="Preview the checklist").click()
    expect(page.locator("#preview")).to_contain_text("The checklist will have 3 items")
    expect(page.locator("#preview")).to_contain_text("Backup taken")
    assert Release.objects.count() == 0  # the preview kept nothing
    page.get_by_role("button", name="Create release").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    return Release.objects.get(name="Checkout")


def _assign_all(page: Page) -> None:
    for title in ("Smoke test passes", "Load test", "Backup taken"):
        page.locator("#checklist").get_by_role("link", name=title).click()
        panel = page.locator("#item-panel")
        expect(panel.get_by_role("heading", name=title)).to_be_visible()
        panel.get_by_label("Assignee").select_option(label="contributor")
        panel.get_by_role("button", name="Save").last.click()
        expect(panel).to_contain_text("Assignee: contributor")


def _go_live_and_complete(page: Page) -> None:
    page.get_by_label("Phase name").fill("Canary")
    page.get_by_role("button", name="Add phase").click()
    page.get_by_label("Phase name").fill("Everyone")
    page.get_by_role("button", name="Add phase").click()
    page.get_by_role("button", name="Start Canary").click()
    expect(page.locator("#release-state")).to_have_text("Live")
    page.get_by_role("button", name="Finish Canary").click()
    page.get_by_role("button", name="Start Everyone").click()
    page.get_by_role("button", name="Finish Everyone").click()
    page.get_by_role("button", name="Complete").click()
    expect(page.locator("#release-state")).to_have_text("Completed")


def test_a_release_from_two_templates_from_creation_to_completion(
    browser: Browser, live_server, templates, manager, contributor, qa, tmp_path
):
    boss = _person(browser, live_server, "manager")
    release = _create_release(boss, live_server)
    boss.get_by_role("button", name="Start work").click()
    expect(boss.locator("#release-state")).to_have_text("In progress")
    _assign_all(boss)
    expect(boss.locator("#gonogo")).to_contain_text("Not done: Smoke test passes")
    expect(boss.get_by_role("button", name="Approve the release (go)")).to_be_disabled()

    worker = _person(browser, live_server, "contributor")
    _work(worker, live_server, "Smoke test passes",
          file={"name": "smoke.txt", "mimeType": "text/plain", "buffer": b"42 passed"})  # fmt: skip
    worker.get_by_label("Comment").fill("All green, @qa please have a look.")
    worker.get_by_role("button", name="Add comment").click()
    expect(worker.locator(".item-panel")).to_contain_text("All green, @qa please have a look.")
    assert [u.username for u in Comment.objects.get().mentions.all()] == ["qa"]
    _work(worker, live_server, "Load test", evidence_url="https://ci.example.com/load/7")
    _work(worker, live_server, "Backup taken", evidence_url="https://ci.example.com/backup/7")

    approver = _person(browser, live_server, "qa")
    _sign(approver, live_server, "Smoke test passes")
    # The manager's page, never reloaded, follows.
    expect(boss.locator("#readiness")).to_contain_text("1 of 3 required items", timeout=15000)
    _sign(approver, live_server, "Load test", "Reject", comment="p99 latency doubled")
    expect(approver.locator(".item-panel .badge").first).to_have_text("In progress")
    expect(boss.locator("#gonogo")).to_contain_text("Rejected by qa: Load test", timeout=15000)
    expect(boss.locator("#item-panel, #checklist").first).to_be_visible()

    _work(worker, live_server, "Load test", evidence_url="https://ci.example.com/load/8")
    _sign(approver, live_server, "Load test")
    _sign(approver, live_server, "Backup taken")
    expect(boss.locator("#readiness")).to_contain_text("3 of 3 required items", timeout=15000)
    expect(boss.locator("#gonogo")).to_contain_text("Every condition is met")
    boss.get_by_role("button", name="Approve the release (go)").click()
    expect(boss.locator("#release-state")).to_have_text("Approved")
    _go_live_and_complete(boss)
    release.refresh_from_db()
    assert release.state == Release.State.COMPLETED

    # The evidence file is there for those who see the release.
    _open_item(approver, live_server, "Smoke test passes")
    href = approver.get_by_role("link", name="smoke.txt").get_attribute("href")
    got = approver.request.get(f"{live_server.url}{href}")
    assert got.status == 200
    assert got.body() == b"42 passed"


def test_outsider_gets_the_404_page_for_the_release_and_everything_under_it(
    page: Page, live_server, scenario, release, make_item, contributor, outsider, done
):
    item = make_item(title="Smoke test", assignee=contributor)
    done(item)
    login(page, live_server, "outsider")
    for path in (
        f"/releases/{release.pk}/",
        f"/releases/{release.pk}/live/?v=0",
        f"/releases/{release.pk}/edit/",
        f"/items/{item.pk}/",
        f"/items/{item.pk}/panel/",
        f"/items/{item.pk}/evidence/",
    ):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 404, path
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        expect(page.locator("main")).not_to_contain_text("Smoke test")
    page.goto(f"{live_server.url}/releases/")
    expect(page.locator("main")).to_contain_text("No releases match.")


def test_an_assignee_sees_why_they_cannot_sign(page: Page, live_server, release, make_item, qa, done):
    item = make_item(title="Regression suite", assignee=qa)
    done(item, by=qa)
    login(page, live_server, "qa")
    page.goto(f"{live_server.url}/items/{item.pk}/")
    expect(page.locator(".refusal")).to_contain_text("Separation of duties: you are the item's assignee")
    expect(page.get_by_role("button", name="Approve", exact=True)).to_have_count(0)


def test_an_approval_with_the_keyboard_alone(page: Page, live_server, release, make_item, contributor, qa, done):
    item = make_item(title="Regression suite", assignee=contributor)
    done(item)
    login(page, live_server, "qa")
    page.goto(f"{live_server.url}/items/{item.pk}/")
    page.get_by_label("Sign-off comment").focus()
    page.keyboard.type("Looks good")
    page.keyboard.press("Tab")  # the help text is not focusable: the Approve button is next
    expect(page.get_by_role("button", name="Approve", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".item-panel")).to_contain_text("1 of 1 from QA")
    item.refresh_from_db()
    assert item.is_signed


def test_release_pages_have_no_serious_accessibility_violations(
    page: Page, live_server, release, make_item, contributor, manager
):
    item = make_item(title="Regression suite", assignee=contributor)
    login(page, live_server, "manager")
    for path in ("/releases/", f"/releases/{release.pk}/", f"/items/{item.pk}/", "/releases/new/"):
        page.goto(f"{live_server.url}{path}")
        assert serious_accessibility_violations(page) == [], path


def test_a_refused_change_on_the_item_page_shows_its_reason_and_keeps_what_was_typed(
    page: Page, live_server, release, make_item, contributor
):
    item = make_item(title="Smoke test", assignee=contributor, evidence_required=True)
    login(page, live_server, "contributor")
    page.goto(f"{live_server.url}/items/{item.pk}/")
    page.get_by_label("Status").select_option("done")
    page.get_by_label("Note").fill("All 42 passed")
    page.get_by_role("button", name="Save").first.click()
    expect(page.locator(".item-panel .errorlist")).to_contain_text("This item needs evidence (a link or a file)")
    expect(page.get_by_label("Note")).to_have_value("All 42 passed")
    item.refresh_from_db()
    assert item.state == "open"


def test_the_item_panel_opens_in_view_with_the_focus_on_its_title(page: Page, live_server, release, make_item, manager):
    make_item(title="Smoke test")
    page.set_viewport_size({"width": 360, "height": 700})
    login(page, live_server, "manager")
    page.goto(f"{live_server.url}/releases/{release.pk}/")
    page.locator("#checklist").get_by_role("link", name="Smoke test").click()
    heading = page.locator("#item-panel h2")
    expect(heading).to_be_focused()
    expect(heading).to_be_in_viewport()
