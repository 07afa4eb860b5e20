import pytest

from config.domain import Conflict, Forbidden, Invalid, NotFound
from releases.models import Phase, Release
from releases.services import phase_create, phase_transition, release_transition

from .conftest import audit_actions, fresh, last_audit

S = Release.State
P = Phase.State


def start(phase, actor):
    return phase_transition(phase=phase, actor=actor, to="in_progress")


def finish(phase, actor):
    return phase_transition(phase=phase, actor=actor, to="done")


def test_phases_are_numbered_in_the_order_they_are_added(release, manager):
    staging = phase_create(release=release, actor=manager, name="Staging", production=False)
    canary = phase_create(release=release, actor=manager, name="Canary 5 %")

    assert (staging.order, canary.order) == (1, 2)
    assert (staging.production, canary.production) == (False, True)
    assert staging.state == P.PENDING
    assert last_audit(release, "phase.created").after == {"name": "Canary 5 %", "order": 2, "production": True}


def test_two_phases_at_the_same_position_are_refused(release, manager):
    phase_create(release=release, actor=manager, name="Canary", order=3)

    with pytest.raises(Invalid) as exc:
        phase_create(release=release, actor=manager, name="Full", order=3)

    assert exc.value.code == "order_taken"
    assert release.phases.count() == 1


def test_blank_phase_name_is_refused(release, manager):
    with pytest.raises(Invalid) as exc:
        phase_create(release=release, actor=manager, name="")

    assert exc.value.code == "required"


def test_a_member_who_does_not_manage_cannot_add_phases(release, contributor):
    with pytest.raises(Forbidden) as exc:
        phase_create(release=release, actor=contributor, name="Canary")

    assert exc.value.code == "not_release_manager"
    assert not release.phases.exists()


def test_an_outsider_cannot_add_or_move_phases(release, manager, outsider):
    phase = phase_create(release=release, actor=manager, name="Staging", production=False)

    with pytest.raises(NotFound):
        phase_create(release=release, actor=outsider, name="Canary")
    with pytest.raises(NotFound):
        start(phase, outsider)

    assert Phase.objects.get(pk=phase.pk).state == P.PENDING


def test_a_production_phase_cannot_start_before_approval(release, manager):
    canary = phase_create(release=release, actor=manager, name="Canary")

    with pytest.raises(Conflict) as exc:
        start(canary, manager)

    assert exc.value.code == "transition_refused"
    assert exc.value.failure_codes == ["release_not_approved"]
    assert Phase.objects.get(pk=canary.pk).state == P.PENDING
    assert fresh(release).state == S.IN_PROGRESS


def test_a_staging_phase_can_run_while_the_release_is_in_progress(release, manager):
    staging = phase_create(release=release, actor=manager, name="Staging", production=False)

    start(staging, manager)
    finish(staging, manager)

    staging = Phase.objects.get(pk=staging.pk)
    assert staging.state == P.DONE
    assert staging.started_at is not None
    assert staging.finished_at is not None
    assert fresh(release).state == S.IN_PROGRESS
    assert "release.live" not in audit_actions(release)


def test_starting_the_first_production_phase_takes_the_release_live(approved_release, manager):
    canary = phase_create(release=approved_release, actor=manager, name="Canary 5 %")

    start(canary, manager)

    release = fresh(approved_release)
    assert release.state == S.LIVE
    assert release.went_live_at is not None
    event = last_audit(release, "release.live")
    assert event.before == {"state": "approved"}
    assert "Canary 5 %" in event.after["reason"]
    assert audit_actions(release)[-2:] == ["phase.in_progress", "release.live"]


def test_a_staging_phase_of_an_approved_release_does_not_take_it_live(approved_release, manager):
    staging = phase_create(release=approved_release, actor=manager, name="Staging", production=False)

    start(staging, manager)

    assert fresh(approved_release).state == S.APPROVED


def test_a_later_production_phase_keeps_the_release_live(approved_release, manager):
    canary = phase_create(release=approved_release, actor=manager, name="Canary")
    full = phase_create(release=approved_release, actor=manager, name="100 %")
    start(canary, manager)
    went_live_at = fresh(approved_release).went_live_at

    start(full, manager)

    release = fresh(approved_release)
    assert release.state == S.LIVE
    assert release.went_live_at == went_live_at
    assert audit_actions(release).count("release.live") == 1


def test_a_phase_cannot_skip_from_pending_to_done(approved_release, manager):
    canary = phase_create(release=approved_release, actor=manager, name="Canary")

    with pytest.raises(Conflict) as exc:
        finish(canary, manager)

    assert exc.value.code == "invalid_transition"


def test_unknown_phase_state_is_invalid(release, manager):
    staging = phase_create(release=release, actor=manager, name="Staging", production=False)

    with pytest.raises(Invalid) as exc:
        phase_transition(phase=staging, actor=manager, to="paused")

    assert exc.value.code == "unknown_state"


def test_completing_with_a_phase_not_done_is_refused_listing_it(approved_release, manager):
    canary = phase_create(release=approved_release, actor=manager, name="Canary")
    full = phase_create(release=approved_release, actor=manager, name="100 %")
    start(canary, manager)
    finish(canary, manager)
    start(full, manager)

    with pytest.raises(Conflict) as exc:
        release_transition(release=approved_release, actor=manager, to="completed")

    assert exc.value.code == "transition_refused"
    (fail,) = exc.value.failures
    assert (fail["code"], fail["phase"]) == ("phase_not_done", full.pk)
    assert "100 %" in fail["message"]
    assert fresh(approved_release).state == S.LIVE


def test_completing_lists_every_phase_not_done(approved_release, manager):
    canary = phase_create(release=approved_release, actor=manager, name="Canary")
    phase_create(release=approved_release, actor=manager, name="25 %")
    phase_create(release=approved_release, actor=manager, name="100 %")
    start(canary, manager)

    with pytest.raises(Conflict) as exc:
        release_transition(release=approved_release, actor=manager, to="completed")

    assert exc.value.failure_codes == ["phase_not_done"] * 3


def test_the_release_completes_once_every_phase_is_done(approved_release, manager):
    phases = [phase_create(release=approved_release, actor=manager, name=n) for n in ("Canary", "100 %")]
    for phase in phases:
        start(phase, manager)
        finish(phase, manager)

    release = release_transition(release=approved_release, actor=manager, to="completed")

    release = fresh(release)
    assert release.state == S.COMPLETED
    assert release.completed_at is not None
    assert last_audit(release, "release.completed").before == {"state": "live"}


def test_phases_of_a_closed_release_cannot_change(approved_release, manager):
    canary = phase_create(release=approved_release, actor=manager, name="Canary")
    release_transition(release=approved_release, actor=manager, to="cancelled", reason="Postponed")

    with pytest.raises(Conflict) as exc:
        start(canary, manager)
    assert exc.value.code == "release_closed"
    with pytest.raises(Conflict) as exc:
        phase_create(release=approved_release, actor=manager, name="Another")
    assert exc.value.code == "release_closed"
