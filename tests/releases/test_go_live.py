"""Moving the go-live date: due dates follow it, and an approved release must be approved again."""

import datetime as dt

import pytest

from approvals.models import ChecklistItem
from config.domain import Conflict, Invalid
from releases.models import Release
from releases.services import release_transition, release_update

from ..factories import in_days
from .conftest import audit_actions, fresh, last_audit

S = Release.State


def test_moving_go_live_after_approval_returns_the_release_to_in_progress(approved_release, manager):
    old = approved_release.go_live_at
    new = old + dt.timedelta(days=2)

    release_update(release=approved_release, actor=manager, go_live_at=new)

    release = fresh(approved_release)
    assert release.state == S.IN_PROGRESS
    assert release.go_live_at == new
    assert "go-live moved" in release.state_reason
    assert audit_actions(release)[-2:] == ["release.go_live_changed", "release.in_progress"]
    moved = last_audit(release, "release.go_live_changed")
    assert moved.before["go_live_at"] == old.isoformat()
    assert moved.after["go_live_at"] == new.isoformat()
    back = last_audit(release, "release.in_progress")
    assert (back.before, back.after["state"]) == ({"state": "approved"}, "in_progress")


def test_moving_the_deployment_window_end_after_approval_also_returns_it(approved_release, manager):
    release_update(
        release=approved_release, actor=manager, window_end_at=approved_release.go_live_at + dt.timedelta(hours=2)
    )

    assert fresh(approved_release).state == S.IN_PROGRESS
    assert "release.go_live_changed" in audit_actions(approved_release)


def test_setting_the_same_go_live_keeps_the_approval(approved_release, manager):
    release_update(release=approved_release, actor=manager, go_live_at=approved_release.go_live_at)

    assert fresh(approved_release).state == S.APPROVED
    assert "release.go_live_changed" not in audit_actions(approved_release)


def test_other_changes_keep_the_approval(approved_release, manager):
    release_update(release=approved_release, actor=manager, description="Adds invoices export", version="2.0.1")

    assert fresh(approved_release).state == S.APPROVED


def test_after_a_go_live_move_the_release_can_be_approved_again(approved_release, manager):
    release_update(release=approved_release, actor=manager, go_live_at=in_days(12))

    release = release_transition(release=approved_release, actor=manager, to="approved")

    assert fresh(release).state == S.APPROVED


def test_go_live_move_drops_a_freeze_override(approved_release, overrider, freeze):
    go_live = approved_release.go_live_at
    release_transition(release=approved_release, actor=overrider, to="in_progress")
    freeze(name="Freeze", starts_at=go_live - dt.timedelta(hours=1), ends_at=go_live + dt.timedelta(hours=1))
    release_transition(release=approved_release, actor=overrider, to="approved", override_freeze=True, reason="Hotfix")
    assert fresh(approved_release).freeze_override_reason == "Hotfix"

    release_update(release=approved_release, actor=overrider, go_live_at=go_live + dt.timedelta(days=1))

    assert fresh(approved_release).freeze_override_reason == ""


def test_moving_go_live_into_the_past_is_refused(approved_release, manager):
    with pytest.raises(Invalid) as exc:
        release_update(release=approved_release, actor=manager, go_live_at=in_days(-1))

    assert exc.value.code == "go_live_in_past"
    assert fresh(approved_release).state == S.APPROVED


def test_a_naive_go_live_is_refused_on_update(release, manager):
    with pytest.raises(Invalid) as exc:
        release_update(release=release, actor=manager, go_live_at=dt.datetime(2030, 1, 1, 9, 0))

    assert exc.value.code == "naive_datetime"


def test_window_end_before_go_live_is_refused_on_update(release, manager):
    with pytest.raises(Invalid) as exc:
        release_update(release=release, actor=manager, window_end_at=release.go_live_at - dt.timedelta(minutes=1))

    assert "window_end_at" in exc.value.fields
    assert fresh(release).window_end_at is None


def test_a_closed_release_can_no_longer_change(release, manager):
    release_transition(release=release, actor=manager, to="cancelled")

    with pytest.raises(Conflict) as exc:
        release_update(release=release, actor=manager, go_live_at=in_days(20))

    assert exc.value.code == "release_closed"


@pytest.fixture
def templated(scenario, project, manager):
    release = scenario.create(
        project, "Templated", templates=["release-readiness"], go_live_at=in_days(20), rollback_plan="Redeploy."
    )
    return scenario.start(release)


def test_moving_go_live_moves_the_due_dates_of_unfinished_items(templated, manager, done):
    finished = templated.items.get(source_key="code-review")
    done(finished)
    finished_due = ChecklistItem.objects.get(pk=finished.pk).due_at
    new_go_live = templated.go_live_at + dt.timedelta(days=3)

    release_update(release=templated, actor=manager, go_live_at=new_go_live)

    for item in ChecklistItem.objects.filter(release=templated).exclude(pk=finished.pk):
        assert item.due_at == new_go_live + dt.timedelta(days=item.due_offset_days), item.title
    assert ChecklistItem.objects.get(pk=finished.pk).due_at == finished_due


def test_clearing_go_live_clears_due_dates_and_the_window(templated, manager):
    release_update(release=templated, actor=manager, window_end_at=templated.go_live_at + dt.timedelta(hours=1))

    release_update(release=templated, actor=manager, go_live_at=None)

    release = fresh(templated)
    assert release.go_live_at is None
    assert release.window_end_at is None
    assert not release.items.filter(due_at__isnull=False).exists()
