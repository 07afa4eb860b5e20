"""Once a release is live, the go/no-go record stands: the items that were done and signed
off for it stay so (their approvals can't be made stale, as they can't be revoked), and its
flags can't add or drop items. Work that goes on after go-live (smoke tests, follow-ups)
still can be done on the items that weren't ready, and as new items."""

import pytest
from django.contrib.auth.models import Group

from approvals.services import item_create, item_update, signoff_grant
from config.domain import Conflict
from releases.services import release_transition, release_update

from ..factories import in_days


@pytest.fixture
def ready_item(scenario, make_item, done, contributor, qa):
    """A required QA item, done by the contributor and approved by qa."""
    item = done(make_item(title="Regression tests", assignee=contributor))
    scenario.signoff(item, qa)
    return item


@pytest.fixture
def live(release, ready_item, manager):
    release_transition(release=release, actor=manager, to="approved")
    return release_transition(release=release, actor=manager, to="live")


@pytest.mark.parametrize(
    "change",
    [
        {"evidence_url": "https://ci.example.com/build/99"},
        {"state": "in_progress"},
        {"title": "Regression tests (rerun)"},
        {"required_signoffs": 2},
        {"required": False},
    ],
    ids=lambda c: next(iter(c)),
)
def test_a_signed_off_item_of_a_live_release_stays_as_approved(live, ready_item, manager, readiness, change):
    revision = ready_item.revision
    with pytest.raises(Conflict) as exc:
        item_update(item=ready_item, actor=manager, **change)

    assert exc.value.code == "item_signed_off_live"
    assert exc.value.failures[0]["message"] == f"Can't change {next(iter(change))}."
    ready_item.refresh_from_db()
    assert ready_item.revision == revision
    assert ready_item.evidence_url == "https://ci.example.com/build/1"
    assert readiness(live) == 100


def test_the_assignee_of_a_signed_off_item_cant_reopen_it_either(live, ready_item, contributor):
    with pytest.raises(Conflict):
        item_update(item=ready_item, actor=contributor, evidence_url="https://ci.example.com/other")


def test_a_signed_off_item_of_a_live_release_cant_be_rejected_back(live, ready_item, qa2, readiness):
    with pytest.raises(Conflict) as exc:
        signoff_grant(item=ready_item, actor=qa2, decision="reject", comment="I'd have wanted a load test.")

    assert exc.value.code == "item_signed_off_live"
    ready_item.refresh_from_db()
    assert ready_item.state == "done"
    assert readiness(live) == 100
    # A further approval changes nothing that counted, and is taken.
    signoff_grant(item=ready_item, actor=qa2, decision="approve")


def test_a_note_on_a_signed_off_item_is_still_welcome(live, ready_item, contributor, readiness):
    item_update(item=ready_item, actor=contributor, note="Smoke test after go-live passed too.")

    ready_item.refresh_from_db()
    assert ready_item.note == "Smoke test after go-live passed too."
    assert readiness(live) == 100


def test_items_not_ready_at_go_live_are_still_worked_and_signed(live, manager, contributor, qa):
    follow_up = item_create(
        release=live,
        actor=manager,
        title="Smoke test in production",
        approver_role=Group.objects.get(name="QA"),
        assignee=contributor,
        required=False,
    )
    item_update(item=follow_up, actor=contributor, state="done", evidence_url="https://ci.example.com/smoke")
    item_update(item=follow_up, actor=contributor, evidence_url="https://ci.example.com/smoke-2")
    signoff_grant(item=follow_up, actor=qa, decision="approve")

    follow_up.refresh_from_db()
    assert (follow_up.state, follow_up.evidence_url) == ("done", "https://ci.example.com/smoke-2")


def test_the_flags_of_a_live_release_stay(live, manager):
    with pytest.raises(Conflict) as exc:
        release_update(release=live, actor=manager, flags=["database_migration"])

    assert exc.value.code == "release_live"
    live.refresh_from_db()
    assert live.flags == []
    # Other details may still be corrected.
    release_update(release=live, actor=manager, description="Went out at 10:00.", go_live_at=in_days(10))
