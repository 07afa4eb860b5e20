"""Helpers for the release tests: a fully ready release, freeze windows, a second project,
and small functions to read the audit trail and catch domain errors."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission

from releases import services
from releases.models import AuditEvent, ProjectMembership, Release

from ..factories import in_days


def audit_actions(release: Release) -> list[str]:
    """The release's audit actions, oldest first."""
    return list(
        AuditEvent.objects.filter(release=release).order_by("created_at", "id").values_list("action", flat=True)
    )


def last_audit(release: Release, action: str) -> AuditEvent:
    event = AuditEvent.objects.filter(release=release, action=action).order_by("-created_at", "-id").first()
    assert event is not None, f"no {action!r} in {audit_actions(release)}"
    return event


def fresh(release: Release) -> Release:
    return Release.objects.get(pk=release.pk)


def next_local(
    weekday: int, hour: int, minute: int = 0, *, tz: str = "Europe/Prague", min_days: int = 2
) -> dt.datetime:
    """The next `weekday` (0 = Monday) at hour:minute local time, at least `min_days` ahead."""
    zone = ZoneInfo(tz)
    day = (dt.datetime.now(zone) + dt.timedelta(days=min_days)).date()
    while day.weekday() != weekday:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)


@pytest.fixture
def other_project(scenario, staff):
    return scenario.project("Payments", "payments")


@pytest.fixture
def other_member(scenario, other_project):
    """A member of another project: sees nothing of `project` unless made a stakeholder."""
    user = scenario.person("other", roles=["QA"])
    return scenario.join(other_project, user, role=ProjectMembership.Role.ADMIN)


@pytest.fixture
def ready_item(scenario, release, make_item, done, contributor, qa):
    """A required QA item, done by the contributor and approved by qa."""
    item = make_item(title="Regression tests", assignee=contributor)
    done(item)
    scenario.signoff(item, qa)
    return item


@pytest.fixture
def ready_release(release, ready_item):
    """The in-progress release, everything in place for the go/no-go."""
    return fresh(release)


@pytest.fixture
def approved_release(ready_release, manager):
    return services.release_transition(release=ready_release, actor=manager, to="approved")


@pytest.fixture
def freeze(scenario, staff):
    """Create a freeze window as an administrator: freeze(name=..., starts_at=..., ...)."""

    def create(**kwargs):
        return scenario.freeze(**kwargs)

    return create


@pytest.fixture
def freeze_over_go_live(freeze, release):
    """A global one-off freeze covering the release's go-live."""
    return freeze(
        name="Year-end freeze",
        starts_at=release.go_live_at - dt.timedelta(days=1),
        ends_at=release.go_live_at + dt.timedelta(days=1),
    )


@pytest.fixture
def overrider(manager):
    """The manager, also holding the global permission releases.override_freeze."""
    manager.user_permissions.add(Permission.objects.get(codename="override_freeze", content_type__app_label="releases"))
    return type(manager).objects.get(pk=manager.pk)  # a fresh object: no cached permissions


__all__ = ["audit_actions", "fresh", "in_days", "last_audit", "next_local"]
