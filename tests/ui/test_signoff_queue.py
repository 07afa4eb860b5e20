"""The sign-off queue (/signoffs/): what awaits an approver's roles (and their delegators'),
approving several items at once, each through signoff_grant with its own reason when refused,
rejecting with a comment, and nothing of releases the person can't see."""

import datetime as dt

import pytest
from django.db import transaction
from django.urls import reverse
from playwright.sync_api import Page, expect

from approvals.models import ChecklistItem, SignOff
from approvals.services import checklist_refresh, item_update
from checklists.models import Category
from releases.state import lock_release
from tests.browser import login, serious_accessibility_violations
from tests.factories import in_days

QUEUE = "/signoffs/"


@pytest.fixture
def waiting(make_item, done, contributor, qa, qa2, security):
    """Three QA items done by the contributor, waiting for QA, due in 3 days, overdue by one
    and undated (needing two sign-offs), and a Security item QA has nothing to do with."""
    items = {
        "report": make_item(title="Load test report", assignee=contributor, due_at=in_days(3)),
        "pentest": make_item(title="Pen test", assignee=contributor, due_at=in_days(-1)),
        "smoke": make_item(title="Smoke test", assignee=contributor, signoffs=2, category=Category.FUNCTIONAL_TESTING),
        "secrets": make_item(title="Secrets rotated", role="Security", assignee=contributor, due_at=in_days(1)),
    }
    for item in items.values():
        done(item)
    return {key: ChecklistItem.objects.get(pk=item.pk) for key, item in items.items()}


def _titles(html: str, *titles: str) -> list[str]:
    """The titles in the order the page shows them."""
    found = [(html.index(t), t) for t in titles if t in html]
    return [t for _, t in sorted(found)]


# --- what the queue shows -----------------------------------------------------------------


def test_approver_sees_items_of_their_role_oldest_due_first(client, waiting, qa):
    client.force_login(qa)
    html = client.get(QUEUE).content.decode()
    assert _titles(html, "Pen test", "Load test report", "Smoke test") == ["Pen test", "Load test report", "Smoke test"]
    assert "Secrets rotated" not in html
    assert "0 of 2" in html
    assert "overdue" in html
    assert f'value="{waiting["report"].pk}"' in html


def test_items_signed_already_leave_the_queue(client, scenario, waiting, qa, qa2):
    scenario.signoff(waiting["report"], qa)
    scenario.signoff(waiting["smoke"], qa2)
    client.force_login(qa)
    html = client.get(QUEUE).content.decode()
    assert "Load test report" not in html  # signed by me
    assert "Smoke test" in html
    assert "1 of 2" in html
    client.force_login(qa2)
    html = client.get(QUEUE).content.decode()
    assert "Load test report" not in html  # quorum met
    assert "Smoke test" not in html  # signed by me


def test_an_item_i_am_assigned_to_is_shown_with_the_reason_and_cannot_be_ticked(client, make_item, done, qa, qa2):
    mine = done(make_item(title="My own review", assignee=qa))
    client.force_login(qa)
    html = client.get(QUEUE).content.decode()
    assert "My own review" in html
    assert "you are its assignee" in html
    assert f'value="{mine.pk}"' not in html
    client.force_login(qa2)
    assert f'value="{mine.pk}"' in client.get(QUEUE).content.decode()


def test_outsider_sees_nothing_of_other_releases(client, scenario, waiting, outsider):
    client.force_login(outsider)
    html = client.get(QUEUE).content.decode()
    assert "Nothing awaits your sign-off." in html
    for item in waiting.values():
        assert item.title not in html
    # and can't sign one by posting its id: the item is not found for them
    response = client.post(QUEUE, {"selected": [waiting["report"].pk], "decision": "approve"}, follow=True)
    assert f"Not approved: item #{waiting['report'].pk}: Not found." in response.content.decode()
    assert not SignOff.objects.exists()


def test_closed_release_items_are_not_in_the_queue(client, scenario, waiting, qa, manager):
    from releases.services import release_transition

    release_transition(release=waiting["report"].release, actor=manager, to="cancelled", reason="Dropped")
    client.force_login(qa)
    assert "Nothing awaits your sign-off." in client.get(QUEUE).content.decode()


def test_filters_narrow_to_one_release_and_role(client, scenario, project, manager, waiting, qa, contributor):
    other = scenario.start(scenario.create(project, "Portal", "1.0", go_live_at=in_days(20), rollback_plan="x"))
    item = scenario.add_item(other, "Portal review", role="QA", assignee=contributor, required_signoffs=1)
    scenario.work_item(item, evidence_url="https://ci.example.com/1")
    client.force_login(qa)
    html = client.get(QUEUE).content.decode()
    assert "Portal review" in html
    assert "Pen test" in html
    html = client.get(QUEUE, {"release": other.pk}).content.decode()
    assert "Portal review" in html
    assert "Pen test" not in html
    assert client.get(QUEUE, {"release": "nonsense"}).status_code == 200


def test_reject_selected_needs_a_comment_and_keeps_the_selection(client, waiting, qa):
    client.force_login(qa)
    pk = waiting["report"].pk
    response = client.post(QUEUE, {"selected": [pk], "decision": "reject", "comment": "  "})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Say why you reject the selected items." in html
    assert f'value="{pk}" id="select-{pk}" checked' in html
    assert not SignOff.objects.exists()


def test_reject_selected_with_a_comment_sends_the_items_back(client, waiting, qa):
    client.force_login(qa)
    pk = waiting["report"].pk
    response = client.post(QUEUE, {"selected": [pk], "decision": "reject", "comment": "Numbers missing"}, follow=True)
    assert "Rejected 1 item: “Load test report”" in response.content.decode()
    signoff = SignOff.objects.get()
    assert (signoff.decision, signoff.comment, signoff.approver) == ("reject", "Numbers missing", qa)
    assert ChecklistItem.objects.get(pk=pk).state == "in_progress"


def test_a_forged_selection_is_a_form_error(client, waiting, qa):
    client.force_login(qa)
    html = client.post(QUEUE, {"selected": ["1; drop"], "decision": "approve"}).content.decode()
    assert "The selection is not one this page offers; reload the page." in html
    assert not SignOff.objects.exists()


def test_nothing_selected_is_a_form_error(client, waiting, qa):
    client.force_login(qa)
    html = client.post(QUEUE, {"decision": "approve", "comment": "ok"}).content.decode()
    assert "Select at least one item." in html
    assert "ok</textarea>" in html


# --- delegation ---------------------------------------------------------------------------


def test_delegate_sees_the_delegators_items_and_signs_on_their_behalf(client, scenario, waiting, qa, qa2):
    """qa2 is away and named qa for QA: the items awaiting qa2 show "on behalf of qa2" as a
    way to sign them; signing that way records qa2 as the approver, qa as the signer."""
    scenario.delegate(qa2, qa, "QA", starts_at=in_days(-1), ends_at=in_days(5))
    client.force_login(qa)
    html = client.get(QUEUE).content.decode()
    pk = waiting["report"].pk
    assert f'name="as-{pk}"' in html
    assert "qa2 named you their delegate for QA until" in html
    assert "on behalf of qa2" in html
    assert "Secrets rotated" not in html  # the delegation is for QA only
    response = client.post(QUEUE, {"selected": [pk], f"as-{pk}": qa2.pk, "decision": "approve"}, follow=True)
    assert "Approved 1 item: “Load test report”" in response.content.decode()
    signoff = SignOff.objects.get(item_id=pk)
    assert (signoff.approver, signoff.signed_by, signoff.delegation is not None) == (qa2, qa, True)
    # One person's sign-off counts once: the item no longer awaits qa, in either way.
    assert f'value="{pk}"' not in client.get(QUEUE).content.decode()


def test_an_item_only_the_delegator_can_still_sign_is_on_their_behalf(client, scenario, waiting, qa, qa2, security):
    """qa2 signed on qa's behalf while qa was away; now qa2 is away and named qa: the item
    awaits qa2 only (qa's own sign-off is given), so the row is on qa2's behalf, no choice."""
    scenario.delegate(qa, qa2, "QA", starts_at=in_days(-2), ends_at=in_days(5))
    scenario.signoff(waiting["smoke"], qa2, on_behalf_of=qa)
    scenario.delegate(qa2, qa, "QA", starts_at=in_days(-1), ends_at=in_days(5))
    client.force_login(qa)
    html = client.get(QUEUE).content.decode()
    pk = waiting["smoke"].pk
    assert f'value="{pk}"' in html
    assert f'<input type="hidden" name="as-{pk}" value="{qa2.pk}">' in html
    assert f'id="as-{pk}"' not in html  # no choice: signing as qa would count qa twice
    client.post(QUEUE, {"selected": [pk], f"as-{pk}": qa2.pk, "decision": "approve"})
    signoff = SignOff.objects.filter(item_id=pk).latest("id")
    assert (signoff.approver, signoff.signed_by) == (qa2, qa)
    assert ChecklistItem.objects.get(pk=pk).valid_approvals == 2


# --- query counts -------------------------------------------------------------------------


def _many_done_items(release, contributor, count: int) -> None:
    """`count` QA items done by the contributor, written in bulk (the status columns then
    recomputed by the service that keeps them)."""
    from django.contrib.auth.models import Group

    qa_role = Group.objects.get(name="QA")
    now = in_days(0)
    ChecklistItem.objects.bulk_create(
        ChecklistItem(
            release=release,
            title=f"Bulk item {n}",
            category=Category.OTHER,
            approver_role=qa_role,
            required_signoffs=1,
            state="done",
            assignee=contributor,
            completed_by=contributor,
            completed_at=now,
            completion_seq=1,
            due_at=now + dt.timedelta(days=n % 9 - 3),
            order=n,
            is_adhoc=True,
        )
        for n in range(count)
    )
    with transaction.atomic():
        checklist_refresh(release=lock_release(release), items=None)


@pytest.mark.parametrize("count", [5, 200])
def test_queue_query_count_is_flat(
    client, django_assert_max_num_queries, scenario, release, qa, qa2, contributor, count
):
    _many_done_items(release, contributor, count)
    scenario.delegate(qa2, qa, "QA", starts_at=in_days(-1), ends_at=in_days(5))
    client.force_login(qa)
    with django_assert_max_num_queries(8):
        response = client.get(QUEUE)
    assert response.content.decode().count('name="selected"') == count


# --- in the browser -----------------------------------------------------------------------

browser = pytest.mark.django_db(transaction=True)


@browser
def test_approve_two_at_once_with_a_comment_and_one_refused_with_its_reason(
    page: Page, live_server, waiting, qa, manager
):
    login(page, live_server, "qa")
    page.get_by_role("link", name="Sign-offs").click()
    expect(page.get_by_role("heading", name="Sign-off queue")).to_be_visible()
    assert serious_accessibility_violations(page) == []
    # Meanwhile the manager hands the pen test to qa, who may then not sign it.
    item_update(item=waiting["pentest"], actor=manager, assignee=qa)
    page.get_by_label("Select “Load test report”").check()
    page.get_by_label("Select “Smoke test”").check()
    page.get_by_label("Select “Pen test”").check()
    page.get_by_label("Comment").fill("Checked the reports.")
    page.get_by_role("button", name="Approve selected").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("Approved 2 items: “Load test report” (Billing 2.0), “Smoke test” (Billing 2.0).")
    expect(status).to_contain_text(
        "Not approved: “Pen test” (Billing 2.0): Separation of duties: you are the item's assignee"
    )
    approvals = SignOff.objects.filter(approver=qa).order_by("item__title")
    assert [(s.item.title, s.comment) for s in approvals] == [
        ("Load test report", "Checked the reports."),
        ("Smoke test", "Checked the reports."),
    ]
    # What is left: the pen test, now not selectable and saying why; the smoke test needs one more, not from qa.
    expect(page.get_by_role("row", name="Pen test")).to_contain_text("you are its assignee")
    expect(page.get_by_label("Select “Pen test”")).to_have_count(0)
    expect(page.get_by_role("link", name="Load test report")).to_have_count(0)
    expect(page.get_by_role("link", name="Smoke test")).to_have_count(0)
    page.set_viewport_size({"width": 360, "height": 800})
    page.screenshot(path="/tmp/ui-queue-queue-narrow.png", full_page=True)


@browser
def test_keyboard_only_approval(page: Page, live_server, waiting, qa):
    login(page, live_server, "qa")
    page.goto(f"{live_server.url}{QUEUE}")
    page.screenshot(path="/tmp/ui-queue-queue.png", full_page=True)
    box = page.get_by_label("Select “Load test report”")

    def tab_to(locator, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if locator.evaluate("el => el === document.activeElement"):
                return
        raise AssertionError("never reached by Tab")

    tab_to(box)
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    tab_to(page.get_by_role("button", name="Approve selected"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Approved 1 item: “Load test report”")
    assert SignOff.objects.filter(approver=qa, item=waiting["report"], decision="approve").exists()


@browser
def test_delegate_in_the_browser_signs_on_behalf(page: Page, live_server, scenario, waiting, qa, qa2):
    scenario.delegate(qa2, qa, "QA", starts_at=in_days(-1), ends_at=in_days(5))
    login(page, live_server, "qa")
    page.goto(f"{live_server.url}{QUEUE}")
    row = page.get_by_role("row", name="Load test report")
    assert serious_accessibility_violations(page) == []
    page.screenshot(path="/tmp/ui-queue-delegate.png", full_page=True)
    row.get_by_label("Sign as").select_option(label="on behalf of qa2")
    row.get_by_role("checkbox").check()
    page.get_by_role("button", name="Approve selected").click()
    expect(page.get_by_role("status")).to_contain_text("Approved 1 item")
    signoff = SignOff.objects.filter(item=waiting["report"], signed_by=qa).latest("id")
    assert signoff.approver == qa2


@browser
def test_outsider_queue_page_is_empty_in_the_browser(page: Page, live_server, waiting, outsider):
    login(page, live_server, "outsider")
    page.goto(f"{live_server.url}{QUEUE}")
    expect(page.get_by_text("Nothing awaits your sign-off.")).to_be_visible()
    expect(page.get_by_text("Pen test")).to_have_count(0)
    assert serious_accessibility_violations(page) == []


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("signoff-queue"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_long_queue_shows_the_first_due_and_says_so(client, monkeypatch, waiting, qa):
    from approvals.views import signoffs

    monkeypatch.setattr(signoffs, "QUEUE_LIMIT", 2)
    client.force_login(qa)
    html = client.get(QUEUE).content.decode()
    assert html.count('name="selected"') == 2
    assert "Smoke test" not in html  # undated: last
    assert "Showing the 2 due first" in html
