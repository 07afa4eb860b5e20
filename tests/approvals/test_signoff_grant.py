"""Granting sign-offs: who may approve or reject, quorum, stale approvals and rejections."""

import pytest

from approvals.models import ChecklistItem, SignOff
from approvals.selectors import item_status
from approvals.services import item_update, signoff_grant
from config.domain import Conflict, Forbidden, Invalid, NotFound
from releases.models import AuditEvent
from releases.services import release_transition, release_update

# --- separation of duties ----------------------------------------------------------------


def test_assignee_cannot_sign_off_own_item(make_item, done, manager, qa):
    item = make_item(assignee=qa)
    done(item, by=manager)

    with pytest.raises(Forbidden) as exc:
        signoff_grant(item=item, actor=qa, decision="approve")

    assert exc.value.code == "separation_of_duties"
    assert exc.value.message == (
        "Separation of duties: you are the item's assignee, so you can't sign it off. Another holder of the QA role "
        "must, or a release manager can relax the rule for this release."
    )
    assert not SignOff.objects.filter(item=item).exists()
    assert item_status(item).valid_approvals == 0


def test_whoever_marked_item_done_cannot_sign_it_off(release, make_item, done, manager, contributor, qa, qa2):
    release_update(release=release, actor=manager, managers=[manager, qa2])
    item = make_item(assignee=contributor)
    done(item, by=qa2)

    with pytest.raises(Forbidden) as exc:
        signoff_grant(item=item, actor=qa2, decision="approve")

    assert exc.value.code == "separation_of_duties"
    assert exc.value.message.startswith("Separation of duties: you marked the item done, so you can't sign it off.")
    signoff_grant(item=item, actor=qa, decision="approve")  # someone uninvolved may
    assert item_status(item).is_signed


def test_relaxed_release_lets_assignee_sign_off_and_records_the_relaxation(
    release, make_item, done, manager, qa, audit_actions
):
    release_update(release=release, actor=manager, allow_self_signoff=True)
    item = make_item(assignee=qa)
    done(item)  # by the assignee, qa

    signoff = signoff_grant(item=item, actor=qa, decision="approve")

    assert signoff.self_signoff_relaxed is True
    assert item_status(item).is_ready
    assert "release.self_signoff_relaxed" in audit_actions(release)
    event = AuditEvent.objects.get(action="signoff.approved", target_id=signoff.pk)
    assert event.after["self_signoff_relaxed"] is True


def test_uninvolved_approver_on_relaxed_release_is_not_marked_relaxed(
    release, make_item, done, manager, contributor, qa
):
    release_update(release=release, actor=manager, allow_self_signoff=True)
    item = make_item(assignee=contributor)
    done(item)

    signoff = signoff_grant(item=item, actor=qa, decision="approve")

    assert signoff.self_signoff_relaxed is False


def test_approval_stops_counting_when_the_item_is_reassigned_to_its_approver(
    release, make_item, done, contributor, qa, manager, readiness
):
    item = make_item(assignee=contributor)
    done(item, by=contributor)
    signoff_grant(item=item, actor=qa, decision="approve")
    assert item_status(item).valid_approvals == 1
    assert readiness(release) == 100

    item_update(item=item, actor=manager, assignee=qa)

    status = item_status(item)
    assert (status.valid_approvals, status.is_signed, status.is_ready) == (0, False, False)
    assert readiness(release) == 0


def test_relaxing_self_signoff_lets_the_assignees_approval_count_again(
    release, make_item, done, contributor, qa, manager, readiness
):
    item = make_item(assignee=contributor)
    done(item, by=contributor)
    signoff_grant(item=item, actor=qa, decision="approve")
    item_update(item=item, actor=manager, assignee=qa)
    assert item_status(item).valid_approvals == 0

    release_update(release=release, actor=manager, allow_self_signoff=True)

    status = item_status(item)
    assert (status.valid_approvals, status.is_ready) == (1, True)
    assert readiness(release) == 100


# --- who may sign ------------------------------------------------------------------------


def test_second_approval_by_same_person_is_refused_and_counts_once(make_item, done, contributor, qa):
    item = make_item(assignee=contributor, signoffs=2)
    done(item)
    signoff_grant(item=item, actor=qa, decision="approve")

    with pytest.raises(Conflict) as exc:
        signoff_grant(item=item, actor=qa, decision="approve")

    assert exc.value.code == "already_signed"
    status = item_status(item)
    assert status.valid_approvals == 1
    assert not status.is_signed
    assert SignOff.objects.filter(item=item).count() == 1


def test_approving_without_the_items_role_is_forbidden(make_item, done, contributor, security):
    item = make_item(assignee=contributor, role="QA")
    done(item)

    with pytest.raises(Forbidden) as exc:
        signoff_grant(item=item, actor=security, decision="approve")

    assert exc.value.code == "missing_role"
    assert item_status(item).valid_approvals == 0


def test_outsider_with_the_role_cannot_find_the_item_to_sign(make_item, done, contributor, outsider):
    item = make_item(assignee=contributor, role="QA")
    done(item)

    with pytest.raises(NotFound):
        signoff_grant(item=item, actor=outsider, decision="approve")

    assert not SignOff.objects.filter(item=item).exists()


def test_quorum_counts_distinct_approvers(release, make_item, done, contributor, qa, qa2, readiness):
    item = make_item(assignee=contributor, signoffs=2)
    done(item)

    signoff_grant(item=item, actor=qa, decision="approve")
    status = item_status(item)
    assert (status.valid_approvals, status.is_signed, readiness(release)) == (1, False, 0)

    signoff_grant(item=item, actor=qa2, decision="approve")
    status = item_status(item)
    assert (status.valid_approvals, status.is_signed, readiness(release)) == (2, True, 100)


def test_unknown_decision_is_invalid(make_item, done, contributor, qa):
    item = make_item(assignee=contributor)
    done(item)

    with pytest.raises(Invalid) as exc:
        signoff_grant(item=item, actor=qa, decision="maybe")

    assert "decision" in exc.value.fields


# --- item state --------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["open", "in_progress"])
def test_item_can_be_signed_off_only_once_finished(make_item, contributor, qa, state):
    item = make_item(assignee=contributor)
    if state != "open":
        item_update(item=item, actor=contributor, state=state)

    with pytest.raises(Conflict) as exc:
        signoff_grant(item=item, actor=qa, decision="approve")

    assert exc.value.code == "item_not_finished"
    assert exc.value.failure_codes == ["item_not_finished"]


def test_not_applicable_needs_a_justification(make_item, contributor):
    item = make_item(assignee=contributor)

    with pytest.raises(Invalid) as exc:
        item_update(item=item, actor=contributor, state="not_applicable")

    assert "justification" in exc.value.fields
    item.refresh_from_db()
    assert item.state == ChecklistItem.State.OPEN


def test_not_applicable_item_still_needs_its_signoff_to_be_ready(release, make_item, contributor, qa, readiness):
    item = make_item(assignee=contributor)
    item_update(item=item, actor=contributor, state="not_applicable", justification="No UI in this release.")
    assert not item_status(item).is_ready
    assert readiness(release) == 0

    signoff_grant(item=item, actor=qa, decision="approve")

    assert item_status(item).is_ready
    assert readiness(release) == 100


# --- stale approvals ---------------------------------------------------------------------


@pytest.fixture
def approved_item(scenario, make_item, done, contributor, qa):
    """A done item (assigned to the contributor) with qa's standing approval."""
    item = make_item(assignee=contributor)
    done(item)
    signoff = scenario.signoff(item, qa)
    assert item_status(item).is_ready
    return item, signoff


def _assert_stale(release, item, signoff, readiness):
    signoff.refresh_from_db()
    assert signoff.revoked_at is None  # still there, still visible
    assert item.signoffs.filter(pk=signoff.pk).exists()
    status = item_status(item)
    assert status.valid_approvals == 0
    assert not status.is_signed
    assert readiness(release) == 0
    assert AuditEvent.objects.filter(
        release=release, action="signoff.stale", target_type="approvals.signoff", target_id=signoff.pk
    ).exists()


def test_approval_goes_stale_when_the_evidence_changes(release, approved_item, contributor, qa, readiness):
    item, signoff = approved_item

    item_update(item=item, actor=contributor, evidence_url="https://ci.example.com/build/2")

    _assert_stale(release, item, signoff, readiness)
    # The same approver may approve the changed item again.
    signoff_grant(item=item, actor=qa, decision="approve")
    assert item_status(item).valid_approvals == 1
    assert readiness(release) == 100


def test_approval_goes_stale_when_the_status_changes(release, approved_item, contributor, qa, done, readiness):
    item, signoff = approved_item

    item_update(item=item, actor=contributor, state="in_progress")

    _assert_stale(release, item, signoff, readiness)
    done(item)
    assert item_status(item).valid_approvals == 0  # still stale once done again
    signoff_grant(item=item, actor=qa, decision="approve")
    assert item_status(item).is_ready


def test_approval_goes_stale_when_the_title_changes(release, approved_item, manager, qa, readiness):
    item, signoff = approved_item

    item_update(item=item, actor=manager, title="Security review incl. pen test")

    _assert_stale(release, item, signoff, readiness)
    signoff_grant(item=item, actor=qa, decision="approve")
    assert item_status(item).is_ready


def test_unchanged_evidence_keeps_the_approval(release, approved_item, contributor, readiness):
    item, _ = approved_item

    item.refresh_from_db()
    item_update(item=item, actor=contributor, evidence_url=item.evidence_url)

    assert item_status(item).valid_approvals == 1
    assert readiness(release) == 100
    assert not AuditEvent.objects.filter(action="signoff.stale").exists()


def test_stale_approval_sends_an_approved_release_back_to_in_progress(release, approved_item, manager, contributor):
    item, _ = approved_item
    release_transition(release=release, actor=manager, to="approved")

    item_update(item=item, actor=contributor, evidence_url="https://ci.example.com/build/2")

    release.refresh_from_db()
    assert release.state == "in_progress"


# --- rejections --------------------------------------------------------------------------


def test_rejection_needs_a_comment(make_item, done, contributor, qa):
    item = make_item(assignee=contributor)
    done(item)

    with pytest.raises(Invalid) as exc:
        signoff_grant(item=item, actor=qa, decision="reject", comment="   ")

    assert "comment" in exc.value.fields
    item.refresh_from_db()
    assert item.state == ChecklistItem.State.DONE
    assert not SignOff.objects.filter(item=item).exists()


def test_rejection_sends_the_item_back_to_in_progress(release, make_item, done, contributor, qa, audit_actions):
    item = make_item(assignee=contributor)
    done(item)

    signoff = signoff_grant(item=item, actor=qa, decision="reject", comment="The scan report is missing.")

    item.refresh_from_db()
    assert item.state == ChecklistItem.State.IN_PROGRESS
    assert item.completed_by is None
    assert signoff.decision == "reject"
    status = item_status(item)
    assert status.has_rejection
    assert not status.is_signed
    actions = audit_actions(release)
    assert "item.state_changed" in actions[actions.index("signoff.rejected") :]


def test_rejection_stands_until_the_item_is_done_again(release, make_item, done, contributor, qa, readiness):
    item = make_item(assignee=contributor)
    done(item)
    signoff_grant(item=item, actor=qa, decision="reject", comment="The scan report is missing.")

    item_update(item=item, actor=contributor, evidence_url="https://ci.example.com/scan/7")
    assert item_status(item).has_rejection  # reworking alone doesn't lift it

    done(item, evidence_url="https://ci.example.com/scan/7")
    status = item_status(item)
    assert not status.has_rejection
    assert not status.is_signed  # the rejection is no approval

    # The approver who rejected may approve the reworked item.
    signoff_grant(item=item, actor=qa, decision="approve")
    assert item_status(item).is_ready
    assert readiness(release) == 100


def test_a_standing_rejection_blocks_the_go_no_go(release, make_item, done, manager, contributor, qa):
    item = make_item(assignee=contributor)
    done(item)
    signoff_grant(item=item, actor=qa, decision="reject", comment="The scan report is missing.")

    with pytest.raises(Conflict) as exc:
        release_transition(release=release, actor=manager, to="approved")

    assert "item_not_done" in exc.value.failure_codes
    assert "item_rejected" in exc.value.failure_codes
