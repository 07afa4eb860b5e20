"""Changing checklist items: who may change what, what each state needs, evidence, assignment,
due dates."""

import datetime as dt

import pytest

from approvals.models import ChecklistItem
from approvals.services import item_update
from config.domain import Conflict, Forbidden, Invalid, NotFound
from releases.models import AuditEvent
from releases.services import release_transition, release_update
from tests.factories import in_days

State = ChecklistItem.State


def test_assignee_can_change_state_evidence_and_note(make_item, contributor, audit_actions):
    item = make_item(assignee=contributor)

    item = item_update(
        item=item,
        actor=contributor,
        state="done",
        evidence_url="https://ci.example.com/build/9",
        note="Green on the second run.",
    )

    item.refresh_from_db()
    assert (item.state, item.evidence_url, item.note) == (
        State.DONE,
        "https://ci.example.com/build/9",
        "Green on the second run.",
    )
    assert item.completed_by == contributor
    assert item.completed_at is not None
    assert {"item.state_changed", "item.updated"} <= set(audit_actions(item.release, target=item))


def test_assignee_cannot_change_the_title(make_item, contributor):
    item = make_item(assignee=contributor, title="Security review")

    with pytest.raises(Forbidden) as exc:
        item_update(item=item, actor=contributor, title="Nothing to review")

    assert exc.value.code == "not_release_manager"
    item.refresh_from_db()
    assert item.title == "Security review"


def test_member_who_is_not_the_assignee_cannot_change_the_item(make_item, contributor, qa):
    item = make_item(assignee=contributor)

    with pytest.raises(Forbidden) as exc:
        item_update(item=item, actor=qa, state="done", evidence_url="https://ci.example.com/build/1")

    assert exc.value.code == "not_assignee"
    item.refresh_from_db()
    assert item.state == State.OPEN


def test_outsider_cannot_find_the_item(make_item, contributor, outsider):
    item = make_item(assignee=contributor)

    with pytest.raises(NotFound):
        item_update(item=item, actor=outsider, state="done")


def test_manager_can_change_the_title(make_item, contributor, manager):
    item = make_item(assignee=contributor)

    item_update(item=item, actor=manager, title="Security review and pen test")

    item.refresh_from_db()
    assert item.title == "Security review and pen test"


def test_item_needing_evidence_cannot_be_done_without_it(make_item, contributor):
    item = make_item(assignee=contributor, evidence_required=True)

    with pytest.raises(Invalid) as exc:
        item_update(item=item, actor=contributor, state="done")

    assert "evidence_url" in exc.value.fields
    item.refresh_from_db()
    assert item.state == State.OPEN

    item_update(item=item, actor=contributor, state="done", evidence_url="https://ci.example.com/build/1")
    item.refresh_from_db()
    assert item.state == State.DONE


def test_evidence_must_be_a_web_link(make_item, contributor):
    item = make_item(assignee=contributor)

    with pytest.raises(Invalid) as exc:
        item_update(item=item, actor=contributor, evidence_url="javascript:alert(1)")

    assert "evidence_url" in exc.value.fields


def test_blocked_needs_a_reason(make_item, contributor):
    item = make_item(assignee=contributor)

    with pytest.raises(Invalid) as exc:
        item_update(item=item, actor=contributor, state="blocked")

    assert "blocked_reason" in exc.value.fields
    item_update(item=item, actor=contributor, state="blocked", blocked_reason="Waiting for the staging DB.")
    item.refresh_from_db()
    assert item.state == State.BLOCKED


def test_items_of_a_cancelled_release_cannot_change(release, make_item, manager, contributor):
    item = make_item(assignee=contributor)
    release_transition(release=release, actor=manager, to="cancelled", reason="Superseded by 2.1.")

    with pytest.raises(Conflict) as exc:
        item_update(item=item, actor=contributor, state="done", evidence_url="https://ci.example.com/build/1")

    assert exc.value.code == "release_closed"
    item.refresh_from_db()
    assert item.state == State.OPEN


def test_no_items_are_added_to_a_cancelled_release(release, make_item, manager):
    release_transition(release=release, actor=manager, to="cancelled", reason="Superseded by 2.1.")

    with pytest.raises(Conflict) as exc:
        make_item(title="Late addition")

    assert exc.value.code == "release_closed"
    assert not release.items.exists()


# --- what an item's state needs, after every change --------------------------------------


def test_clearing_the_evidence_of_a_done_item_that_needs_it_is_refused(make_item, done, contributor):
    item = done(make_item(assignee=contributor, evidence_required=True), evidence_url="https://ci.example.com/b/7")

    with pytest.raises(Invalid) as exc:
        item_update(item=item, actor=contributor, evidence_url="")

    assert exc.value.code == "evidence_required"
    assert list(exc.value.fields) == ["evidence_url"]
    item.refresh_from_db()
    assert (item.state, item.evidence_url) == (State.DONE, "https://ci.example.com/b/7")


def test_requiring_evidence_on_a_done_item_without_any_is_refused(make_item, contributor, manager):
    item = make_item(assignee=contributor, evidence_required=False)
    item = item_update(item=item, actor=contributor, state="done")

    with pytest.raises(Invalid) as exc:
        item_update(item=item, actor=manager, evidence_required=True)

    assert exc.value.code == "evidence_required"
    assert "evidence_url" in exc.value.fields
    item.refresh_from_db()
    assert (item.state, item.evidence_required) == (State.DONE, False)


def test_clearing_the_justification_of_a_not_applicable_item_is_refused(make_item, contributor):
    item = make_item(assignee=contributor)
    item = item_update(item=item, actor=contributor, state="not_applicable", justification="No UI changes.")

    # Before the fix the database's check constraint refused it: an IntegrityError (a 500).
    with pytest.raises(Invalid) as exc:
        item_update(item=item, actor=contributor, justification="")

    assert exc.value.code == "justification_required"
    assert list(exc.value.fields) == ["justification"]
    item.refresh_from_db()
    assert (item.state, item.justification) == (State.NOT_APPLICABLE, "No UI changes.")


def test_clearing_the_reason_of_a_blocked_item_is_refused(make_item, contributor):
    item = make_item(assignee=contributor)
    item = item_update(item=item, actor=contributor, state="blocked", blocked_reason="Waiting for the vendor.")

    with pytest.raises(Invalid) as exc:
        item_update(item=item, actor=contributor, blocked_reason="")

    assert exc.value.code == "blocked_reason_required"
    assert list(exc.value.fields) == ["blocked_reason"]
    item.refresh_from_db()
    assert (item.state, item.blocked_reason) == (State.BLOCKED, "Waiting for the vendor.")


def test_leaving_blocked_clears_the_blocked_reason(make_item, contributor):
    item = make_item(assignee=contributor)
    item = item_update(item=item, actor=contributor, state="blocked", blocked_reason="Waiting for the vendor.")

    item_update(item=item, actor=contributor, state="in_progress")

    item.refresh_from_db()
    assert (item.state, item.blocked_reason) == (State.IN_PROGRESS, "")


# --- assignment --------------------------------------------------------------------------


def test_assigning_a_user_who_cannot_view_the_release_is_refused(make_item, manager, outsider):
    item = make_item()

    with pytest.raises(Invalid) as exc:
        item_update(item=item, actor=manager, assignee=outsider)

    assert exc.value.code == "assignee_cannot_view"
    assert "assignee" in exc.value.fields
    item.refresh_from_db()
    assert item.assignee is None


def test_assigning_a_member_is_recorded(release, make_item, manager, contributor):
    item = make_item()

    item_update(item=item, actor=manager, assignee=contributor)

    item.refresh_from_db()
    assert item.assignee == contributor
    event = AuditEvent.objects.get(release=release, action="item.assigned", target_id=item.pk)
    assert event.actor == manager
    assert event.after == {"assignee": contributor.pk}


def test_a_contributor_whose_item_was_reassigned_can_no_longer_change_it(make_item, manager, contributor, qa):
    item = make_item(assignee=contributor)
    item_update(item=ChecklistItem.objects.get(pk=item.pk), actor=manager, assignee=qa)

    # The contributor still holds the page (their copy says they are the assignee).
    with pytest.raises(Forbidden) as exc:
        item_update(item=item, actor=contributor, state="done", evidence_url="https://ci.example.com/build/1")

    assert exc.value.code == "not_assignee"
    item.refresh_from_db()
    assert item.state == State.OPEN


def test_contributor_cannot_reassign_their_item(make_item, contributor, qa):
    item = make_item(assignee=contributor)

    with pytest.raises(Forbidden):
        item_update(item=item, actor=contributor, assignee=qa)

    item.refresh_from_db()
    assert item.assignee == contributor


# --- due dates ---------------------------------------------------------------------------


@pytest.fixture
def templated_release(scenario, project, manager):
    """A release from the built-in release-readiness template (items due before go-live)."""
    return scenario.create(
        project,
        "Payments",
        templates=["release-readiness"],
        go_live_at=in_days(20),
        rollback_plan="Redeploy the previous tag.",
    )


def test_items_are_due_relative_to_the_go_live(templated_release):
    items = list(templated_release.items.all())

    assert items
    assert any(item.due_offset_days != 0 for item in items)
    for item in items:
        assert item.due_at == templated_release.go_live_at + dt.timedelta(days=item.due_offset_days)


def test_moving_the_go_live_moves_unfinished_items_only(templated_release, manager, audit_actions):
    done_item, open_item = templated_release.items.filter(due_offset_days=-7)[:2]
    item_update(item=done_item, actor=manager, state="done", evidence_url="https://ci.example.com/build/1")
    done_due = ChecklistItem.objects.get(pk=done_item.pk).due_at

    new_go_live = templated_release.go_live_at + dt.timedelta(days=5)
    release_update(release=templated_release, actor=manager, go_live_at=new_go_live)

    assert ChecklistItem.objects.get(pk=open_item.pk).due_at == new_go_live - dt.timedelta(days=7)
    assert ChecklistItem.objects.get(pk=done_item.pk).due_at == done_due
    assert "release.go_live_changed" in audit_actions(templated_release)


def test_the_audit_names_approver_roles_as_the_api_does(make_item, manager):
    from django.contrib.auth.models import Group

    item = make_item(role="QA")
    created = AuditEvent.objects.get(action="item.created", target_id=item.pk)
    assert created.after["approver_role"] == "QA"

    item_update(item=item, actor=manager, approver_role=Group.objects.get_or_create(name="Security")[0])
    updated = AuditEvent.objects.get(action="item.updated", target_id=item.pk)
    assert (updated.before, updated.after) == ({"approver_role": "QA"}, {"approver_role": "Security"})


# --- an item removed while the caller held a stale copy ----------------------------------


def test_updating_an_item_removed_meanwhile_is_not_found(templated_release, manager):
    release_update(release=templated_release, actor=manager, flags=["database_migration"])
    stale = templated_release.items.get(source_key="data-migration-plan")
    release_update(release=templated_release, actor=manager, flags=[])  # untouched: removed
    assert not ChecklistItem.objects.filter(pk=stale.pk).exists()

    with pytest.raises(NotFound) as exc:
        item_update(item=stale, actor=manager, title="Migration rehearsed twice")

    assert exc.value.code == "not_found"
