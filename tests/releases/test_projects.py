import pytest

from config.domain import Conflict, Forbidden, Invalid, NotFound
from releases import permissions
from releases.models import AuditEvent, Project, ProjectMembership
from releases.services import project_create, project_member_add, project_member_remove, project_update, release_create

from ..factories import UserFactory, in_days

Role = ProjectMembership.Role


# --- creating projects ---------------------------------------------------------------------


def test_staff_creates_a_project_with_a_slug_from_its_name(staff):
    project = project_create(actor=staff, name="Customer Portal", description="Self-service")

    assert project.slug == "customer-portal"
    event = AuditEvent.objects.get(action="project.created", target_id=project.pk)
    assert event.actor == staff
    assert event.after == {"name": "Customer Portal", "slug": "customer-portal"}


def test_staff_who_is_not_superuser_may_create_a_project(db):
    admin = UserFactory(username="ops-admin", is_staff=True)

    assert project_create(actor=admin, name="Portal").slug == "portal"


@pytest.mark.parametrize("who", ["manager", "contributor", "outsider"])
def test_only_staff_creates_projects(request, who):
    actor = request.getfixturevalue(who)

    with pytest.raises(Forbidden):
        project_create(actor=actor, name="Shadow IT")

    assert not Project.objects.filter(name="Shadow IT").exists()


def test_a_taken_slug_is_refused(staff, project):
    with pytest.raises(Invalid) as exc:
        project_create(actor=staff, name="Billing again", slug="billing")

    assert exc.value.code == "slug_taken"
    assert Project.objects.filter(slug="billing").count() == 1


@pytest.mark.parametrize("slug", ["Billing", "has space", "ümlaut"])
def test_a_malformed_slug_is_refused(staff, slug):
    with pytest.raises(Invalid) as exc:
        project_create(actor=staff, name="Portal", slug=slug)

    assert "slug" in exc.value.fields


def test_a_blank_name_is_refused(staff):
    with pytest.raises(Invalid) as exc:
        project_create(actor=staff, name="  ")

    assert exc.value.code == "required"


# --- members -------------------------------------------------------------------------------


def test_project_admin_adds_a_member_who_then_sees_its_releases(project, manager, release, outsider):
    membership = project_member_add(project=project, actor=manager, user=outsider)

    assert membership.role == Role.MEMBER
    assert permissions.can_view_project(outsider, project)
    assert permissions.can_view_release(outsider, release)
    assert not permissions.can_manage_release(outsider, release)
    event = AuditEvent.objects.filter(action="project.member_added").latest("id")
    assert (event.actor, event.after) == (manager, {"user": "outsider", "role": "member"})


def test_a_member_made_admin_can_create_releases(project, manager, contributor):
    project_member_add(project=project, actor=manager, user=contributor, role=Role.ADMIN)

    assert ProjectMembership.objects.get(project=project, user=contributor).role == Role.ADMIN
    event = AuditEvent.objects.filter(action="project.member_added").latest("id")
    assert event.before == {"role": "member"}
    release = release_create(actor=contributor, project=project, name="Contributor's", go_live_at=in_days(5))
    assert permissions.can_manage_release(contributor, release)


def test_staff_may_add_members_to_any_project(project, staff, outsider):
    project_member_add(project=project, actor=staff, user=outsider, role=Role.ADMIN)

    assert permissions.can_administer_project(outsider, project)


@pytest.mark.parametrize("role", ["owner", "", "ADMIN", None])
def test_an_unknown_role_is_refused(project, manager, outsider, role):
    with pytest.raises(Invalid) as exc:
        project_member_add(project=project, actor=manager, user=outsider, role=role)

    assert "role" in exc.value.fields
    assert not ProjectMembership.objects.filter(user=outsider).exists()


def test_a_plain_member_cannot_add_members(project, contributor, outsider):
    with pytest.raises(Forbidden) as exc:
        project_member_add(project=project, actor=contributor, user=outsider)

    assert exc.value.code == "not_project_admin"
    assert not ProjectMembership.objects.filter(user=outsider).exists()


def test_a_plain_member_cannot_promote_themselves(project, contributor):
    with pytest.raises(Forbidden):
        project_member_add(project=project, actor=contributor, user=contributor, role=Role.ADMIN)

    assert ProjectMembership.objects.get(project=project, user=contributor).role == Role.MEMBER


def test_an_outsider_cannot_add_members_and_does_not_see_the_project(project, outsider):
    with pytest.raises(NotFound):
        project_member_add(project=project, actor=outsider, user=outsider, role=Role.ADMIN)

    assert not permissions.projects_visible_to(outsider).exists()
    assert not ProjectMembership.objects.filter(user=outsider).exists()


def test_admin_of_another_project_cannot_add_members_here(project, other_member, outsider):
    with pytest.raises(NotFound):
        project_member_add(project=project, actor=other_member, user=outsider)


def test_project_admin_removes_a_member_who_then_sees_nothing(project, manager, contributor, release):
    project_member_remove(project=project, actor=manager, user=contributor)

    assert not permissions.can_view_project(contributor, project)
    assert not permissions.can_view_release(contributor, release)
    event = AuditEvent.objects.get(action="project.member_removed")
    assert event.before == {"user": "contributor"}


def test_removing_someone_who_is_not_a_member_is_not_found(project, manager, outsider):
    with pytest.raises(NotFound):
        project_member_remove(project=project, actor=manager, user=outsider)

    assert not AuditEvent.objects.filter(action="project.member_removed").exists()


def test_a_plain_member_cannot_remove_members(project, contributor, qa):
    with pytest.raises(Forbidden) as exc:
        project_member_remove(project=project, actor=contributor, user=qa)

    assert exc.value.code == "not_project_admin"
    assert ProjectMembership.objects.filter(project=project, user=qa).exists()


def test_the_last_admin_can_neither_leave_nor_step_down(project, manager, contributor, staff):
    """Else the project is stranded: nobody but the site's staff could add members again."""
    for act in (
        lambda: project_member_remove(project=project, actor=manager, user=manager),
        lambda: project_member_add(project=project, actor=manager, user=manager, role=Role.MEMBER),
        lambda: project_member_remove(project=project, actor=staff, user=manager),
    ):
        with pytest.raises(Conflict) as exc:
            act()
        assert exc.value.code == "last_project_admin"
        assert exc.value.failure_codes == ["last_project_admin"]
    assert ProjectMembership.objects.get(project=project, user=manager).role == Role.ADMIN

    # With a second administrator, either may go.
    project_member_add(project=project, actor=manager, user=contributor, role=Role.ADMIN)
    project_member_add(project=project, actor=manager, user=manager, role=Role.MEMBER)
    assert ProjectMembership.objects.get(project=project, user=manager).role == Role.MEMBER
    with pytest.raises(Conflict):
        project_member_remove(project=project, actor=contributor, user=contributor)
    project_member_remove(project=project, actor=contributor, user=manager)
    assert not ProjectMembership.objects.filter(project=project, user=manager).exists()


# --- updating ------------------------------------------------------------------------------


def test_project_admin_renames_the_project(project, manager):
    project_update(project=project, actor=manager, name="Billing & Invoicing")

    assert Project.objects.get(pk=project.pk).name == "Billing & Invoicing"
    event = AuditEvent.objects.get(action="project.updated")
    assert (event.before["name"], event.after["name"]) == ("Billing", "Billing & Invoicing")


def test_a_plain_member_cannot_rename_the_project(project, contributor):
    with pytest.raises(Forbidden):
        project_update(project=project, actor=contributor, name="Mine")

    assert Project.objects.get(pk=project.pk).name == "Billing"
