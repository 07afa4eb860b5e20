import pytest

from approvals.services import (
    checklist_apply_template,
    item_update,
    release_template_upgrade,
    signoff_grant,
    signoff_revoke,
)
from checklists.services import template_create, template_update
from config.domain import Conflict, Forbidden, Invalid, NotFound
from releases.models import Release
from releases.services import freeze_window_delete, release_create, release_transition, release_update

from ..factories import in_days
from .conftest import audit_actions, fresh, last_audit

S = Release.State


def move(release, actor, *states, **kwargs):
    for state in states:
        release = release_transition(release=release, actor=actor, to=state, **kwargs)
    return release


# --- the state map -----------------------------------------------------------------------


def test_release_goes_through_its_whole_life(ready_release, manager):
    release = move(ready_release, manager, "approved", "live", "completed")

    release = fresh(release)
    assert release.state == S.COMPLETED
    assert release.approved_by == manager
    assert None not in (release.approved_at, release.went_live_at, release.completed_at)
    assert audit_actions(release)[-3:] == ["release.approved", "release.live", "release.completed"]


def test_a_draft_release_starts_work(project, manager):
    draft = release_create(actor=manager, project=project, name="New", go_live_at=in_days(5))

    release = release_transition(release=draft, actor=manager, to="in_progress")

    assert fresh(release).state == S.IN_PROGRESS
    event = last_audit(release, "release.in_progress")
    assert (event.before, event.after["state"]) == ({"state": "draft"}, "in_progress")


@pytest.mark.parametrize(
    "start", [(), ("in_progress",), ("in_progress", "approved")], ids=["draft", "in_progress", "approved"]
)
def test_a_release_can_be_cancelled_before_it_is_live(project, manager, make_item, done, contributor, qa, start):
    release = release_create(
        actor=manager, project=project, name="Doomed", go_live_at=in_days(5), rollback_plan="Redeploy."
    )
    if "approved" in start:
        release = move(release, manager, "in_progress")
        item = make_item(on_release=release, assignee=contributor)
        done(item)
        signoff_grant(item=item, actor=qa, decision="approve")
        release = move(release, manager, "approved")
    else:
        release = move(release, manager, *start)

    release = release_transition(release=release, actor=manager, to="cancelled", reason="Superseded by 2.1")

    release = fresh(release)
    assert release.state == S.CANCELLED
    assert release.state_reason == "Superseded by 2.1"
    assert last_audit(release, "release.cancelled").after["reason"] == "Superseded by 2.1"


def test_a_live_release_cannot_be_cancelled(approved_release, manager):
    live = move(approved_release, manager, "live")

    with pytest.raises(Conflict) as exc:
        release_transition(release=live, actor=manager, to="cancelled")

    assert exc.value.code == "invalid_transition"
    assert fresh(live).state == S.LIVE


def test_a_live_release_rolls_back_with_a_reason(approved_release, manager):
    live = move(approved_release, manager, "live")

    release = release_transition(release=live, actor=manager, to="rolled_back", reason="Error rate doubled")

    assert fresh(release).state == S.ROLLED_BACK
    assert last_audit(release, "release.rolled_back").after["reason"] == "Error rate doubled"


def test_rollback_without_a_reason_is_refused(approved_release, manager):
    live = move(approved_release, manager, "live")

    with pytest.raises(Conflict) as exc:
        release_transition(release=live, actor=manager, to="rolled_back", reason="  ")

    assert exc.value.code == "transition_refused"
    assert exc.value.failure_codes == ["reason_required"]
    assert fresh(live).state == S.LIVE


@pytest.mark.parametrize(
    "start", [(), ("approved",), ("approved", "live", "completed")], ids=["in_progress", "approved", "completed"]
)
def test_only_a_live_release_can_roll_back(ready_release, manager, start):
    release = move(ready_release, manager, *start)

    with pytest.raises(Conflict) as exc:
        release_transition(release=release, actor=manager, to="rolled_back", reason="Broken")

    assert exc.value.code == "invalid_transition"


@pytest.mark.parametrize(
    ("start", "to"),
    [
        ((), "live"),
        ((), "completed"),
        (("approved",), "completed"),
        (("approved", "live"), "approved"),
        (("approved", "live", "completed"), "in_progress"),
        (("cancelled",), "in_progress"),
    ],
    ids=[
        "in_progress>live",
        "in_progress>completed",
        "approved>completed",
        "live>approved",
        "completed>in_progress",
        "cancelled>in_progress",
    ],
)
def test_moves_outside_the_state_map_are_refused(ready_release, manager, start, to):
    release = move(ready_release, manager, *start)

    with pytest.raises(Conflict) as exc:
        release_transition(release=release, actor=manager, to=to)

    assert exc.value.code == "invalid_transition"
    assert exc.value.failure_codes == ["invalid_transition"]
    assert fresh(release).state == release.state


def test_a_draft_cannot_be_approved_directly(project, manager):
    draft = release_create(actor=manager, project=project, name="New", go_live_at=in_days(5))

    with pytest.raises(Conflict) as exc:
        release_transition(release=draft, actor=manager, to="approved")

    assert exc.value.code == "invalid_transition"
    assert fresh(draft).state == S.DRAFT


def test_unknown_state_name_is_invalid(release, manager):
    with pytest.raises(Invalid) as exc:
        release_transition(release=release, actor=manager, to="shipped")

    assert exc.value.code == "unknown_state"
    assert "to" in exc.value.fields


def test_a_project_member_who_does_not_manage_cannot_move_the_release(ready_release, contributor):
    with pytest.raises(Forbidden) as exc:
        release_transition(release=ready_release, actor=contributor, to="approved")

    assert exc.value.code == "not_release_manager"
    assert fresh(ready_release).state == S.IN_PROGRESS


def test_an_outsider_cannot_move_the_release(ready_release, outsider):
    with pytest.raises(NotFound):
        release_transition(release=ready_release, actor=outsider, to="cancelled")

    assert fresh(ready_release).state == S.IN_PROGRESS


# --- the go/no-go --------------------------------------------------------------------------


def test_approval_is_refused_with_every_unmet_condition_at_once(
    release, manager, make_item, done, contributor, qa, staff, freeze_over_go_live
):
    unsigned = make_item(title="Penetration test", assignee=contributor)
    done(unsigned)
    open_item = make_item(title="Update runbook", role=None)
    release = release_update(release=release, actor=manager, rollback_plan="")

    with pytest.raises(Conflict) as exc:
        release_transition(release=release, actor=manager, to="approved")

    error = exc.value
    assert error.code == "transition_refused"
    assert sorted(error.failure_codes) == ["freeze_window", "item_not_done", "rollback_plan_missing", "signoff_missing"]
    by_code = {f["code"]: f for f in error.failures}
    assert by_code["signoff_missing"]["item"] == unsigned.pk
    assert "Penetration test" in by_code["signoff_missing"]["message"]
    assert (by_code["signoff_missing"]["have"], by_code["signoff_missing"]["need"]) == (0, 1)
    assert by_code["item_not_done"]["item"] == open_item.pk
    assert "Update runbook" in by_code["item_not_done"]["message"]
    assert by_code["freeze_window"]["freeze_window"] == freeze_over_go_live.pk
    assert "Year-end freeze" in by_code["freeze_window"]["message"]
    assert fresh(release).state == S.IN_PROGRESS
    assert "release.approved" not in audit_actions(release)

    # Fix everything, then the same release is approved.
    signoff_grant(item=unsigned, actor=qa, decision="approve")
    done(open_item)
    release_update(release=release, actor=manager, rollback_plan="Redeploy 1.9.")
    freeze_window_delete(window=freeze_over_go_live, actor=staff)

    release = release_transition(release=release, actor=manager, to="approved")

    assert fresh(release).state == S.APPROVED
    event = last_audit(release, "release.approved")
    assert event.actor == manager
    assert event.before == {"state": "in_progress"}
    assert event.after["state"] == "approved"


def test_approval_without_go_live_or_checklist_lists_those_conditions(project, manager):
    release = release_create(actor=manager, project=project, name="Vague")
    release = move(release, manager, "in_progress")

    with pytest.raises(Conflict) as exc:
        release_transition(release=release, actor=manager, to="approved")

    assert sorted(exc.value.failure_codes) == ["empty_checklist", "go_live_missing", "rollback_plan_missing"]


def test_approval_is_refused_when_the_go_live_has_passed(ready_release, manager):
    # Time passes: the go-live set in the future is now behind us.
    Release.objects.filter(pk=ready_release.pk).update(go_live_at=in_days(-1))

    with pytest.raises(Conflict) as exc:
        release_transition(release=ready_release, actor=manager, to="approved")

    assert exc.value.failure_codes == ["go_live_in_past"]


def test_an_item_with_a_missing_quorum_blocks_approval(release, manager, make_item, done, contributor, qa):
    item = make_item(title="Load test", assignee=contributor, signoffs=2)
    done(item)
    signoff_grant(item=item, actor=qa, decision="approve")

    with pytest.raises(Conflict) as exc:
        release_transition(release=release, actor=manager, to="approved")

    (fail,) = exc.value.failures
    assert (fail["code"], fail["have"], fail["need"], fail["role"]) == ("signoff_missing", 1, 2, "QA")


def test_a_standing_rejection_blocks_approval(release, manager, make_item, done, contributor, qa):
    item = make_item(title="Load test", assignee=contributor)
    done(item)
    signoff_grant(item=item, actor=qa, decision="reject", comment="p99 too high")

    with pytest.raises(Conflict) as exc:
        release_transition(release=release, actor=manager, to="approved")

    assert "item_rejected" in exc.value.failure_codes


def test_an_optional_item_left_open_does_not_block_approval(ready_release, manager, make_item):
    make_item(title="Nice-to-have docs", role=None, required=False)

    release = release_transition(release=ready_release, actor=manager, to="approved")

    assert fresh(release).state == S.APPROVED


def test_a_required_item_not_applicable_with_justification_does_not_block(ready_release, manager, make_item):
    item = make_item(title="Data migration", role=None)
    item_update(item=item, actor=manager, state="not_applicable", justification="No schema change")

    release = release_transition(release=ready_release, actor=manager, to="approved")

    assert fresh(release).state == S.APPROVED


def test_an_approved_release_can_be_sent_back_to_work(approved_release, manager):
    release = release_transition(release=approved_release, actor=manager, to="in_progress", reason="Found a bug")

    release = fresh(release)
    assert release.state == S.IN_PROGRESS
    assert release.state_reason == "Found a bug"


# --- an approved release falls back when its go/no-go breaks -----------------------------


def test_new_evidence_after_approval_returns_the_release_to_in_progress(approved_release, ready_item, contributor):
    item_update(item=ready_item, actor=contributor, evidence_url="https://ci.example.com/build/2")

    release = fresh(approved_release)
    assert release.state == S.IN_PROGRESS
    assert "Regression tests" in release.state_reason
    assert audit_actions(release)[-1] == "release.in_progress"
    assert "signoff.stale" in audit_actions(release)
    assert last_audit(release, "release.in_progress").before == {"state": "approved"}


def test_a_revoked_signoff_after_approval_returns_the_release_to_in_progress(approved_release, ready_item, qa):
    signoff_revoke(signoff=ready_item.signoffs.get(), actor=qa, reason="Missed a failing suite")

    assert fresh(approved_release).state == S.IN_PROGRESS
    assert audit_actions(approved_release)[-1] == "release.in_progress"


def test_a_rejection_after_approval_returns_the_release_to_in_progress(approved_release, ready_item, qa2):
    signoff_grant(item=ready_item, actor=qa2, decision="reject", comment="Suite is red on prod-like data")

    assert fresh(approved_release).state == S.IN_PROGRESS


def test_a_new_required_item_after_approval_returns_the_release_to_in_progress(approved_release, make_item):
    make_item(title="Late legal review", role="Legal")

    assert fresh(approved_release).state == S.IN_PROGRESS
    assert audit_actions(approved_release)[-1] == "release.in_progress"


def test_a_note_on_a_ready_item_keeps_the_approval(approved_release, ready_item, contributor):
    item_update(item=ready_item, actor=contributor, note="Ran again on staging, still green")

    assert fresh(approved_release).state == S.APPROVED
    assert "release.in_progress" not in audit_actions(approved_release)[-1:]


def test_making_an_open_optional_item_required_reopens_the_approved_release(ready_release, make_item, manager):
    optional = make_item(title="Load test", required=False)
    release = release_transition(release=ready_release, actor=manager, to="approved")

    item_update(item=optional, actor=manager, required=True)

    release = fresh(release)
    assert release.state == S.IN_PROGRESS
    event = last_audit(release, "release.in_progress")
    assert event.before == {"state": "approved"}
    assert event.after["reason"] == "Item changed: Load test"
    assert release.state_reason == "Item changed: Load test"


def test_emptying_the_rollback_plan_reopens_the_approved_release(approved_release, manager):
    release_update(release=approved_release, actor=manager, rollback_plan="")

    release = fresh(approved_release)
    assert release.state == S.IN_PROGRESS
    event = last_audit(release, "release.in_progress")
    assert event.before == {"state": "approved"}
    assert event.after["reason"] == "Release changed: rollback_plan"
    # and it can't be approved again until there is a plan
    with pytest.raises(Conflict) as exc:
        release_transition(release=release, actor=manager, to="approved")
    assert "rollback_plan_missing" in exc.value.failure_codes


def _gate(*extra_items):
    """A one-item template (a runbook, no sign-off needed), plus any extra items."""
    runbook = {"key": "runbook", "title": "Runbook written", "category": "deployment", "required_signoffs": 0}
    return {"slug": "gate", "name": "Go-live gate", "sections": [{"title": "Gate", "items": [runbook, *extra_items]}]}


def test_a_template_upgrade_adding_a_required_item_reopens_the_approved_release(release, staff, manager):
    gate = template_create(actor=staff, data=_gate())
    (runbook,) = checklist_apply_template(release=release, template=gate, actor=manager)
    item_update(item=runbook, actor=manager, state="done")
    release_transition(release=release, actor=manager, to="approved")
    v2 = _gate({"key": "dashboards", "title": "Dashboards ready", "category": "monitoring", "required_signoffs": 0})
    template_update(template=gate, actor=staff, data=v2)

    summary = release_template_upgrade(release=release, slug="gate", actor=manager)

    assert summary["added"] == ["Dashboards ready"]
    release = fresh(release)
    assert release.state == S.IN_PROGRESS
    assert last_audit(release, "release.in_progress").after["reason"] == "Template 'gate' upgraded"
