"""The dashboard (/): what awaits my sign-off, my items, upcoming go-lives with a countdown and
readiness, releases at risk and recent activity, of the releases I can see only, in a fixed
number of queries."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from playwright.sync_api import Page, expect

from approvals.models import ChecklistItem
from approvals.services import checklist_refresh
from checklists.models import Category
from releases.models import AuditAction, AuditEvent, Release
from releases.services import release_transition
from releases.state import lock_release
from tests.browser import login, serious_accessibility_violations
from tests.factories import in_days


def _section(html: str, heading: str) -> str:
    """The HTML of the dashboard's card under that heading."""
    start = html.index(f">{heading}")
    end = html.find("</section>", start)
    return html[start:end]


@pytest.fixture
def world(scenario, project, manager, release, make_item, done, contributor, qa, qa2, security):
    """Billing 2.0 (go-live in 10 days) with QA items awaiting sign-off, one of them assigned
    to qa; Portal 1.0 (go-live in 3 days) with a late required item; an unrelated project's
    release that the approvers can't see."""
    items = {
        "report": done(make_item(title="Load test report", assignee=contributor, due_at=in_days(3))),
        "own": done(make_item(title="QA's own checklist", assignee=qa)),
        "late": make_item(title="Backup restored", assignee=contributor, due_at=in_days(-2)),
        "soon": make_item(title="Runbook written", assignee=contributor, due_at=in_days(4)),
        "later": make_item(title="Training held", assignee=contributor, due_at=in_days(30)),
        "blocked": make_item(title="Vendor sign-off", assignee=contributor),
    }
    scenario.work_item(items["blocked"], state="blocked", blocked_reason="Waiting for the vendor")
    portal = scenario.start(scenario.create(project, "Portal", "1.0", go_live_at=in_days(3), rollback_plan="x"))
    scenario.add_item(portal, "Portal review", role="QA", assignee=contributor, due_at=in_days(-1), required_signoffs=1)
    other = scenario.project("Secret", "secret", admins=[scenario.person("boss")])
    hidden = scenario.create(other, "Hidden", "9.9", by="boss", go_live_at=in_days(1), rollback_plan="x")
    scenario.add_item(hidden, "Hidden item", role="QA", by="boss", due_at=in_days(-1), required_signoffs=1)
    return {"items": items, "portal": portal, "hidden": hidden}


def test_awaiting_my_signoff_counts_what_i_can_sign(client, world, qa):
    client.force_login(qa)
    html = client.get("/").content.decode()
    awaiting = _section(html, "Awaiting my sign-off")
    assert 'data-testid="awaiting-count">1<' in awaiting
    report = world["items"]["report"]
    assert f'href="/items/{report.pk}/"' in awaiting
    assert "QA&#x27;s own checklist" not in awaiting  # qa is its assignee: not theirs to sign
    assert 'href="/signoffs/"' in awaiting


def test_delegate_sees_the_delegators_items_marked(client, scenario, world, qa, qa2):
    scenario.delegate(qa, qa2, "QA", starts_at=in_days(-1), ends_at=in_days(3))
    client.force_login(qa2)
    awaiting = _section(client.get("/").content.decode(), "Awaiting my sign-off")
    # qa2 can sign both: the report (as themselves, or for qa), qa's own item only as themselves
    assert 'data-testid="awaiting-count">2<' in awaiting
    assert "on behalf of qa" in awaiting


def test_my_items_overdue_due_soon_and_blocked(client, world, contributor):
    client.force_login(contributor)
    mine = _section(client.get("/").content.decode(), "My items")
    assert re.search(r"Overdue.*Backup restored.*Portal review.*Due in the next 7 days.*Runbook written", mine, re.S)
    assert "Blocked" in mine
    assert "Vendor sign-off" in mine
    assert "Waiting for the vendor" in mine
    assert "Training held" not in mine  # due in a month
    assert "Load test report" not in mine  # done


def test_upcoming_go_lives_soonest_first_with_countdown_and_readiness(client, world, manager):
    client.force_login(manager)
    upcoming = _section(client.get("/").content.decode(), "Upcoming go-lives")
    assert upcoming.index("Portal 1.0") < upcoming.index("Billing 2.0")
    assert "Hidden" not in upcoming
    assert "data-countdown=" in upcoming
    assert 'aria-label="Readiness 0 %"' in upcoming
    assert '<span style="width: 0%">' in upcoming
    assert "0 % ready (0 of 6)" in upcoming


def test_closed_releases_leave_upcoming_and_at_risk(client, world, manager):
    release_transition(release=world["portal"], actor=manager, to=Release.State.CANCELLED, reason="Dropped")
    client.force_login(manager)
    html = client.get("/").content.decode()
    assert "Portal 1.0" not in _section(html, "Upcoming go-lives")
    assert "Portal 1.0" not in _section(html, "Releases at risk")


def test_releases_at_risk_have_late_required_items(client, world, manager):
    client.force_login(manager)
    risk = _section(client.get("/").content.decode(), "Releases at risk")
    assert "Billing 2.0" in risk
    assert "Portal 1.0" in risk
    assert "1 required item late" in risk
    assert "Hidden" not in risk


def test_recent_activity_links_to_the_release(client, world, qa):
    client.force_login(qa)
    activity = _section(client.get("/").content.decode(), "Recent activity")
    assert f'href="/releases/{world["portal"].pk}/"' in activity
    assert "manager" in activity
    assert "Item added" in activity
    assert "Hidden" not in activity


def test_outsider_sees_nothing_of_other_releases(client, world, outsider):
    client.force_login(outsider)
    html = client.get("/").content.decode()
    for name in ("Billing", "Portal", "Hidden", "Load test report"):
        assert name not in html
    assert "Nothing awaits your sign-off." in html
    assert "No go-live is planned." in html


# --- query counts -------------------------------------------------------------------------


def _many_releases(project, manager, contributor, count: int) -> None:
    """`count` releases of the project, each with a QA item done (awaiting QA) due in the
    past or soon, one of the contributor's open and an audit event, written in bulk (status
    columns then recomputed by the service that keeps them)."""
    qa_role = Group.objects.get(name="QA")
    now = in_days(0)
    releases = Release.objects.bulk_create(
        Release(
            project=project,
            name=f"Bulk {n}",
            version="1",
            state="in_progress",
            go_live_at=now + dt.timedelta(days=n + 1),
        )
        for n in range(count)
    )
    items = []
    for n, release in enumerate(releases):
        common = {"release": release, "category": Category.OTHER, "approver_role": qa_role, "required_signoffs": 1}
        items.append(
            ChecklistItem(
                title=f"Done {n}",
                state="done",
                assignee=contributor,
                completed_by=contributor,
                completion_seq=1,
                due_at=now - dt.timedelta(days=1),
                order=1,
                **common,
            )
        )
        items.append(
            ChecklistItem(
                title=f"Open {n}", assignee=contributor, due_at=now + dt.timedelta(days=n % 9 - 3), order=2, **common
            )
        )
    ChecklistItem.objects.bulk_create(items)
    AuditEvent.objects.bulk_create(
        AuditEvent(
            release=r,
            actor=manager,
            actor_name="manager",
            action=AuditAction.RELEASE_CREATED,
            target_type="release",
            target_id=r.pk,
            target_repr=str(r),
        )
        for r in releases
    )
    for release in releases:
        with transaction.atomic():
            checklist_refresh(release=lock_release(release), items=None)


@pytest.mark.parametrize("count", [5, 200])
def test_dashboard_query_count_is_flat(
    client, django_assert_max_num_queries, scenario, project, manager, contributor, qa, qa2, count
):
    _many_releases(project, manager, contributor, count)
    scenario.delegate(qa2, qa, "QA", starts_at=in_days(-1), ends_at=in_days(5))
    for user in (qa, contributor):
        client.force_login(user)
        with django_assert_max_num_queries(12):
            response = client.get("/")
        assert response.status_code == 200
    html = response.content.decode()
    assert "Bulk 0 1" in _section(html, "Upcoming go-lives")
    assert "Open 0" in _section(html, "My items")


# --- in the browser -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_approver_follows_an_awaiting_item_from_the_dashboard(page: Page, live_server, world, qa):
    login(page, live_server, "qa")
    awaiting = page.get_by_role("region", name=re.compile("Awaiting my sign-off"))
    expect(awaiting).to_contain_text("Load test report")
    expect(page.get_by_role("img", name="Readiness 0 %").first).to_be_visible()
    countdown = page.locator("[data-countdown]").first
    expect(countdown).to_have_text(re.compile(r"^in (\d+ d )?\d+ h \d+ min$"))  # app.js has filled it in
    assert serious_accessibility_violations(page) == []
    page.screenshot(path="/tmp/ui-queue-dashboard.png", full_page=True)
    page.set_viewport_size({"width": 360, "height": 800})
    page.screenshot(path="/tmp/ui-queue-dashboard-narrow.png", full_page=True)
    awaiting.get_by_role("link", name="Load test report").click()
    assert page.url == f"{live_server.url}/items/{world['items']['report'].pk}/"
