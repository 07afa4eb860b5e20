import datetime as dt

import pytest

from approvals.services import item_update
from config.domain import Conflict, Forbidden, Invalid
from releases.models import AuditEvent, FreezeWindow, Release
from releases.selectors import freeze_windows_hit
from releases.services import freeze_window_create, freeze_window_update, release_transition, release_update

from ..factories import UserFactory, in_days
from .conftest import fresh, last_audit, next_local

S = Release.State
FRIDAY, SATURDAY, SUNDAY, THURSDAY = 4, 5, 6, 3
SOON = in_days(20)


def approve(release, actor, **kwargs):
    return release_transition(release=release, actor=actor, to="approved", **kwargs)


def refused_codes(release, actor, **kwargs) -> list[str]:
    with pytest.raises(Conflict) as exc:
        approve(release, actor, **kwargs)
    assert exc.value.code == "transition_refused"
    assert fresh(release).state == S.IN_PROGRESS
    return exc.value.failure_codes


def set_go_live(release, manager, go_live_at, window_end_at=None):
    return release_update(release=release, actor=manager, go_live_at=go_live_at, window_end_at=window_end_at)


# --- one-off windows -----------------------------------------------------------------------


def test_global_one_off_window_covering_go_live_blocks_approval(ready_release, manager, freeze_over_go_live):
    assert refused_codes(ready_release, manager) == ["freeze_window"]


def test_window_of_another_project_does_not_block(ready_release, manager, freeze, other_project):
    freeze(
        name="Payments freeze",
        project=other_project,
        starts_at=ready_release.go_live_at - dt.timedelta(hours=1),
        ends_at=ready_release.go_live_at + dt.timedelta(hours=1),
    )

    assert fresh(approve(ready_release, manager)).state == S.APPROVED


def test_window_of_the_release_project_blocks(ready_release, manager, freeze, project):
    window = freeze(
        name="Billing freeze",
        project=project,
        starts_at=ready_release.go_live_at - dt.timedelta(hours=1),
        ends_at=ready_release.go_live_at + dt.timedelta(hours=1),
    )

    with pytest.raises(Conflict) as exc:
        approve(ready_release, manager)

    assert exc.value.failures[0]["freeze_window"] == window.pk


def test_window_that_ended_before_go_live_does_not_block(ready_release, manager, freeze):
    go_live = ready_release.go_live_at
    freeze(name="Past", starts_at=go_live - dt.timedelta(days=2), ends_at=go_live - dt.timedelta(days=1))

    assert fresh(approve(ready_release, manager)).state == S.APPROVED


def test_deployment_window_running_into_a_freeze_blocks(ready_release, manager, freeze):
    go_live = ready_release.go_live_at
    freeze(name="Night freeze", starts_at=go_live + dt.timedelta(hours=2), ends_at=go_live + dt.timedelta(hours=8))
    set_go_live(ready_release, manager, go_live, window_end_at=go_live + dt.timedelta(hours=3))

    assert refused_codes(ready_release, manager) == ["freeze_window"]


def test_deployment_window_ending_before_the_freeze_does_not_block(ready_release, manager, freeze):
    go_live = ready_release.go_live_at
    freeze(name="Night freeze", starts_at=go_live + dt.timedelta(hours=2), ends_at=go_live + dt.timedelta(hours=8))
    set_go_live(ready_release, manager, go_live, window_end_at=go_live + dt.timedelta(hours=1))

    assert fresh(approve(ready_release, manager)).state == S.APPROVED


def test_every_window_hit_is_listed(ready_release, manager, freeze, project):
    go_live = ready_release.go_live_at
    freeze(name="Global", starts_at=go_live - dt.timedelta(hours=1), ends_at=go_live + dt.timedelta(hours=1))
    freeze(
        name="Billing",
        project=project,
        starts_at=go_live - dt.timedelta(hours=1),
        ends_at=go_live + dt.timedelta(hours=1),
    )

    with pytest.raises(Conflict) as exc:
        approve(ready_release, manager)

    assert [f["code"] for f in exc.value.failures] == ["freeze_window", "freeze_window"]
    assert {m for f in exc.value.failures for m in ("Global", "Billing") if m in f["message"]} == {"Global", "Billing"}


# --- weekly windows ------------------------------------------------------------------------


@pytest.fixture
def friday_afternoons(freeze):
    return freeze(
        name="No Friday afternoon go-lives",
        weekday=FRIDAY,
        start_time=dt.time(12, 0),
        end_time=dt.time(23, 59),
        timezone_name="Europe/Prague",
    )


def test_weekly_window_blocks_a_friday_afternoon_go_live(ready_release, manager, friday_afternoons):
    set_go_live(ready_release, manager, next_local(FRIDAY, 15))

    with pytest.raises(Conflict) as exc:
        approve(ready_release, manager)

    assert exc.value.failures[0]["freeze_window"] == friday_afternoons.pk


def test_weekly_window_does_not_block_a_thursday_afternoon_go_live(ready_release, manager, friday_afternoons):
    set_go_live(ready_release, manager, next_local(THURSDAY, 15))

    assert fresh(approve(ready_release, manager)).state == S.APPROVED


def test_weekly_window_does_not_block_a_friday_morning_go_live(ready_release, manager, friday_afternoons):
    set_go_live(ready_release, manager, next_local(FRIDAY, 11, 30))

    assert fresh(approve(ready_release, manager)).state == S.APPROVED


def test_weekly_window_is_read_in_its_own_time_zone(project, freeze, friday_afternoons):
    utc_window = freeze(
        name="UTC Friday afternoons",
        weekday=FRIDAY,
        start_time=dt.time(12),
        end_time=dt.time(23, 59),
        timezone_name="UTC",
    )
    # Friday 11:30 UTC is 12:30 (winter) or 13:30 (summer) in Prague.
    go_live = next_local(FRIDAY, 11, 30, tz="UTC")

    assert freeze_windows_hit(project_id=project.pk, start=go_live) == [friday_afternoons]
    assert freeze_windows_hit(project_id=project.pk, start=go_live + dt.timedelta(hours=1)) == [
        friday_afternoons,
        utc_window,
    ]


def test_deployment_window_reaching_into_friday_afternoon_blocks(ready_release, manager, friday_afternoons):
    go_live = next_local(FRIDAY, 9)
    set_go_live(ready_release, manager, go_live, window_end_at=go_live + dt.timedelta(hours=4))

    assert refused_codes(ready_release, manager) == ["freeze_window"]


@pytest.fixture
def saturday_nights(freeze):
    return freeze(
        name="Saturday night batch",
        weekday=SATURDAY,
        start_time=dt.time(22, 0),
        end_time=dt.time(6, 0),
        timezone_name="Europe/Prague",
    )


@pytest.mark.parametrize(
    ("weekday", "hour", "blocked"),
    [
        (SATURDAY, 21, False),
        (SATURDAY, 23, True),
        (SUNDAY, 3, True),  # after midnight, still the Saturday window
        (SUNDAY, 7, False),
        (FRIDAY, 23, False),  # the night before is not frozen
    ],
    ids=["sat-21h", "sat-23h", "sun-03h", "sun-07h", "fri-23h"],
)
def test_overnight_weekly_window_runs_across_midnight(project, saturday_nights, weekday, hour, blocked):
    go_live = next_local(weekday, hour)

    hits = freeze_windows_hit(project_id=project.pk, start=go_live)

    assert hits == ([saturday_nights] if blocked else [])


def test_overnight_window_blocks_approval_of_a_sunday_3am_go_live(ready_release, manager, saturday_nights):
    set_go_live(ready_release, manager, next_local(SUNDAY, 3))

    assert refused_codes(ready_release, manager) == ["freeze_window"]


# --- the override --------------------------------------------------------------------------


def test_override_with_permission_and_reason_approves_and_records_why(ready_release, overrider, freeze_over_go_live):
    release = approve(ready_release, overrider, override_freeze=True, reason="Security fix for CVE-2030-1")

    release = fresh(release)
    assert release.state == S.APPROVED
    assert release.freeze_override_reason == "Security fix for CVE-2030-1"
    event = last_audit(release, "release.approved")
    assert event.after["freeze_override"] == ["Year-end freeze"]
    assert event.after["reason"] == "Security fix for CVE-2030-1"


def test_override_without_the_permission_is_refused(ready_release, manager, freeze_over_go_live):
    assert refused_codes(ready_release, manager, override_freeze=True, reason="Urgent") == [
        "freeze_window",
        "override_not_permitted",
    ]
    assert fresh(ready_release).freeze_override_reason == ""


def test_override_without_a_reason_is_refused(ready_release, overrider, freeze_over_go_live):
    assert refused_codes(ready_release, overrider, override_freeze=True, reason="  ") == [
        "freeze_window",
        "override_reason_missing",
    ]


def test_override_without_permission_or_reason_lists_both(ready_release, manager, freeze_over_go_live):
    codes = refused_codes(ready_release, manager, override_freeze=True)

    assert sorted(codes) == ["freeze_window", "override_not_permitted", "override_reason_missing"]


def test_override_permission_alone_does_not_skip_the_freeze(ready_release, overrider, freeze_over_go_live):
    assert refused_codes(ready_release, overrider) == ["freeze_window"]


def test_override_does_not_excuse_other_unmet_conditions(ready_release, overrider, freeze_over_go_live):
    release_update(release=ready_release, actor=overrider, rollback_plan="")

    codes = refused_codes(ready_release, overrider, override_freeze=True, reason="Urgent")

    assert codes == ["rollback_plan_missing"]


def test_override_outside_any_freeze_records_no_override(ready_release, overrider):
    release = approve(ready_release, overrider, override_freeze=True, reason="Just in case")

    release = fresh(release)
    assert release.state == S.APPROVED
    assert release.freeze_override_reason == ""
    assert "freeze_override" not in last_audit(release, "release.approved").after


def test_reopening_clears_the_freeze_override(ready_release, ready_item, freeze_over_go_live, overrider, manager):
    release = release_transition(
        release=ready_release, actor=overrider, to="approved", override_freeze=True, reason="Fix for the outage"
    )
    assert fresh(release).freeze_override_reason == "Fix for the outage"

    item_update(item=ready_item, actor=manager, state="in_progress")

    release = fresh(release)
    assert release.state == S.IN_PROGRESS
    assert release.freeze_override_reason == ""
    assert last_audit(release, "release.in_progress").after["reason"] == "Item changed: Regression tests"


def test_reopening_for_a_missing_rollback_plan_clears_the_freeze_override(
    ready_release, freeze_over_go_live, overrider, manager
):
    release = release_transition(
        release=ready_release, actor=overrider, to="approved", override_freeze=True, reason="Fix for the outage"
    )

    release_update(release=release, actor=manager, rollback_plan="  ")

    release = fresh(release)
    assert (release.state, release.freeze_override_reason) == (S.IN_PROGRESS, "")


# --- administering windows -----------------------------------------------------------------


def test_administrator_creates_a_window_and_it_is_audited(staff):
    window = freeze_window_create(
        actor=staff, name="Holidays", starts_at=in_days(20), ends_at=in_days(30), reason="Skeleton crew"
    )

    assert FreezeWindow.objects.get(pk=window.pk).name == "Holidays"
    assert window.project is None
    event = AuditEvent.objects.get(action="freeze_window.created", target_id=window.pk)
    assert event.actor == staff
    assert event.after["name"] == "Holidays"


def test_staff_who_is_not_superuser_may_create_a_window(db):
    admin = UserFactory(username="ops-admin", is_staff=True)

    window = freeze_window_create(actor=admin, name="Holidays", starts_at=in_days(20), ends_at=in_days(30))

    assert window.pk


@pytest.mark.parametrize("who", ["manager", "contributor", "outsider"])
def test_non_staff_cannot_create_a_window(request, who):
    actor = request.getfixturevalue(who)

    with pytest.raises(Forbidden):
        freeze_window_create(actor=actor, name="Mine", starts_at=in_days(20), ends_at=in_days(30))

    assert not FreezeWindow.objects.exists()


def test_manager_cannot_change_a_window(manager, freeze_over_go_live):
    with pytest.raises(Forbidden):
        freeze_window_update(window=freeze_over_go_live, actor=manager, name="Shorter")

    assert FreezeWindow.objects.get(pk=freeze_over_go_live.pk).name == "Year-end freeze"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"starts_at": in_days(30), "ends_at": in_days(20)}, "ends_at"),
        ({"starts_at": SOON, "ends_at": SOON}, "ends_at"),
        ({"starts_at": in_days(20)}, "ends_at"),
        ({"weekday": FRIDAY, "start_time": dt.time(12), "end_time": dt.time(12)}, "end_time"),
        ({"weekday": 7, "start_time": dt.time(12), "end_time": dt.time(18)}, "weekday"),
        ({"weekday": FRIDAY, "start_time": "12:00", "end_time": dt.time(18)}, "start_time"),
        ({"weekday": FRIDAY, "start_time": dt.time(12)}, "end_time"),
        ({"starts_at": in_days(20), "ends_at": in_days(30), "weekday": FRIDAY}, "non_field_errors"),
        ({}, "non_field_errors"),
        ({"starts_at": in_days(20), "ends_at": in_days(30), "timezone_name": "Mars/Olympus"}, "timezone"),
        (
            {"weekday": FRIDAY, "start_time": dt.time(12), "end_time": dt.time(18), "timezone_name": "Europe/Pargue"},
            "timezone",
        ),
    ],
    ids=[
        "end-before-start",
        "end-equals-start",
        "no-end",
        "weekly-same-times",
        "weekday-7",
        "time-as-text",
        "weekly-no-end",
        "both-kinds",
        "neither-kind",
        "bad-tz-one-off",
        "bad-tz-weekly",
    ],
)
def test_bad_window_is_refused(staff, kwargs, field):
    with pytest.raises(Invalid) as exc:
        freeze_window_create(actor=staff, name="Bad", **kwargs)

    assert field in exc.value.fields
    assert not FreezeWindow.objects.exists()


def test_naive_window_start_is_refused(staff):
    with pytest.raises(Invalid) as exc:
        freeze_window_create(actor=staff, name="Bad", starts_at=dt.datetime(2030, 12, 20), ends_at=in_days(30))

    assert exc.value.code == "naive_datetime"


def test_blank_window_name_is_refused(staff):
    with pytest.raises(Invalid) as exc:
        freeze_window_create(actor=staff, name=" ", starts_at=in_days(20), ends_at=in_days(30))

    assert "name" in exc.value.fields
