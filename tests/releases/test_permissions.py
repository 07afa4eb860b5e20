"""Who sees and manages a release: project members, stakeholders, managers, outsiders."""

import pytest
from django.contrib.auth.models import AnonymousUser

from config.domain import Forbidden, Invalid, NotFound
from releases import permissions
from releases.models import Release
from releases.selectors import release_get, release_list
from releases.services import project_member_add, release_transition, release_update

from ..factories import UserFactory, in_days
from .conftest import fresh, last_audit

S = Release.State


@pytest.fixture
def second_release(scenario, project, manager):
    return scenario.create(project, "Reporting", go_live_at=in_days(20))


@pytest.fixture
def foreign_release(scenario, other_project, other_member):
    return scenario.create(other_project, "Payouts", by=other_member, go_live_at=in_days(20))


# --- outsiders -----------------------------------------------------------------------------


def test_outsider_sees_no_release(release, second_release, outsider):
    assert not permissions.releases_visible_to(outsider).exists()
    assert not release_list(user=outsider).exists()
    assert release_get(user=outsider, pk=release.pk) is None
    assert not permissions.can_view_release(outsider, release)
    assert not permissions.can_manage_release(outsider, release)


def test_outsider_cannot_change_the_release(release, outsider):
    with pytest.raises(NotFound):
        release_update(release=release, actor=outsider, name="Hijacked")
    with pytest.raises(NotFound):
        release_update(release=release, actor=outsider, stakeholders=[outsider])

    assert fresh(release).name == "Billing"
    assert not permissions.can_view_release(outsider, release)


def test_anonymous_and_inactive_users_see_nothing(release, contributor):
    contributor.is_active = False
    contributor.save()

    assert not permissions.releases_visible_to(AnonymousUser()).exists()
    assert not permissions.releases_visible_to(None).exists()
    assert not permissions.releases_visible_to(contributor).exists()


# --- project members -----------------------------------------------------------------------


def test_project_member_sees_every_release_of_the_project_but_manages_none(
    release, second_release, foreign_release, contributor
):
    visible = set(permissions.releases_visible_to(contributor))

    assert visible == {release, second_release}
    assert {r.pk for r in release_list(user=contributor)} == {release.pk, second_release.pk}
    assert not permissions.releases_managed_by(contributor).exists()
    assert not permissions.can_manage_release(contributor, release)


def test_project_member_cannot_change_a_release(release, contributor):
    with pytest.raises(Forbidden) as exc:
        release_update(release=release, actor=contributor, go_live_at=in_days(3))

    assert exc.value.code == "not_release_manager"
    assert fresh(release).go_live_at == release.go_live_at


def test_project_admin_manages_only_the_releases_they_created_or_were_given(project, manager, second_release):
    other_admin = UserFactory(username="admin2")
    project_member_add(project=project, actor=manager, user=other_admin, role="admin")

    assert permissions.can_view_release(other_admin, second_release)
    assert not permissions.can_manage_release(other_admin, second_release)


# --- stakeholders --------------------------------------------------------------------------


def test_stakeholder_from_another_project_can_view_but_not_manage(release, manager, other_member):
    release_update(release=release, actor=manager, stakeholders=[other_member])

    assert permissions.can_view_release(other_member, release)
    assert release in permissions.releases_visible_to(other_member)
    assert release_get(user=other_member, pk=release.pk) is not None
    assert not permissions.can_manage_release(other_member, release)
    assert list(fresh(release).stakeholders.all()) == [other_member]
    assert last_audit(release, "release.people_changed").after == {"stakeholders": ["other"]}
    with pytest.raises(Forbidden):
        release_transition(release=release, actor=other_member, to="cancelled")


def test_stakeholder_sees_only_the_release_they_follow(release, second_release, manager, other_member):
    release_update(release=release, actor=manager, stakeholders=[other_member])

    assert not permissions.can_view_release(other_member, second_release)


def test_removing_a_stakeholder_revokes_their_view(release, manager, other_member):
    release_update(release=release, actor=manager, stakeholders=[other_member])

    release_update(release=release, actor=manager, stakeholders=[])

    assert not permissions.can_view_release(other_member, release)
    assert release_get(user=other_member, pk=release.pk) is None
    assert not fresh(release).stakeholders.exists()
    assert last_audit(release, "release.people_changed").before == {"stakeholders": ["other"]}


def test_removing_a_project_member_as_stakeholder_keeps_their_member_view(release, manager, contributor):
    release_update(release=release, actor=manager, stakeholders=[contributor])

    release_update(release=release, actor=manager, stakeholders=[])

    assert permissions.can_view_release(contributor, release)


def test_an_external_stakeholder_address_is_normalised(release, manager):
    release_update(release=release, actor=manager, stakeholder_emails=["CFO@Example.com", "cfo@example.com"])

    assert fresh(release).stakeholder_emails == ["cfo@example.com"]


def test_a_bad_stakeholder_address_is_refused(release, manager):
    with pytest.raises(Invalid) as exc:
        release_update(release=release, actor=manager, stakeholder_emails=["not-an-address"])

    assert "stakeholder_emails" in exc.value.fields


# --- managers ------------------------------------------------------------------------------


def test_managers_added_can_manage(release, manager, contributor, other_member):
    release_update(release=release, actor=manager, managers=[manager, contributor, other_member])

    assert set(permissions.release_managers(release)) == {manager, contributor, other_member}
    assert permissions.can_manage_release(contributor, release)
    assert permissions.can_view_release(other_member, release)  # managing implies viewing
    assert permissions.can_manage_release(other_member, release)
    release_transition(release=release, actor=other_member, to="cancelled", reason="Merged into 2.1")
    assert fresh(release).state == S.CANCELLED


def test_a_manager_left_out_loses_management(release, manager, contributor):
    release_update(release=release, actor=manager, managers=[contributor])

    assert not permissions.can_manage_release(manager, release)
    assert permissions.can_view_release(manager, release)  # still a project member
    assert last_audit(release, "release.people_changed").after == {"managers": ["contributor"]}
    with pytest.raises(Forbidden):
        release_update(release=release, actor=manager, name="Renamed")


def test_a_release_needs_at_least_one_manager(release, manager):
    with pytest.raises(Invalid) as exc:
        release_update(release=release, actor=manager, managers=[])

    assert "managers" in exc.value.fields
    assert list(permissions.release_managers(release)) == [manager]


def test_a_refused_manager_change_changes_nothing_else(release, manager):
    with pytest.raises(Invalid):
        release_update(release=release, actor=manager, name="Renamed", managers=[])

    assert fresh(release).name == "Billing"


def test_superuser_sees_and_manages_every_release(release, foreign_release, staff):
    assert set(permissions.releases_visible_to(staff)) == {release, foreign_release}
    assert permissions.can_manage_release(staff, foreign_release)
