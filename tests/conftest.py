"""Named people of a release and the helpers most tests use.

- manager: release manager (project admin who creates the release)
- contributor: project member who works assigned items
- qa, qa2, security, ops: approvers (project members holding an approver role)
- outsider: holds roles but belongs to nothing; must see nothing
"""

import pytest

from approvals import services as approval_services
from approvals.models import ChecklistItem
from checklists.models import Category
from releases import services as release_services
from releases.models import ProjectMembership

from .factories import MembershipFactory, ProjectFactory, UserFactory, in_days


@pytest.fixture
def project(db):
    return ProjectFactory(name="Billing", slug="billing")


@pytest.fixture
def manager(project):
    user = UserFactory(username="manager")
    MembershipFactory(project=project, user=user, role=ProjectMembership.Role.ADMIN)
    return user


def _member(project, username, roles=()):
    user = UserFactory(username=username, roles=list(roles))
    MembershipFactory(project=project, user=user)
    return user


@pytest.fixture
def contributor(project):
    return _member(project, "contributor")


@pytest.fixture
def qa(project):
    return _member(project, "qa", ["QA"])


@pytest.fixture
def qa2(project):
    return _member(project, "qa2", ["QA"])


@pytest.fixture
def security(project):
    return _member(project, "security", ["Security"])


@pytest.fixture
def ops(project):
    return _member(project, "ops", ["Operations"])


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider", roles=["QA", "Security", "Operations"])


@pytest.fixture
def staff(db):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def release(project, manager):
    """An in-progress release with no template, go-live in 10 days, a rollback plan."""
    rel = release_services.release_create(
        actor=manager, project=project, name="Billing", version="2.0",
        go_live_at=in_days(10), rollback_plan="Redeploy 1.9 from tag v1.9.",
    )
    return release_services.release_transition(release=rel, actor=manager, to="in_progress")


@pytest.fixture
def make_item(release, manager):
    def make(*, title="Security review", role="QA", signoffs=1, assignee=None, required=True,
             evidence_required=False, category=Category.SECURITY, **kwargs) -> ChecklistItem:
        from django.contrib.auth.models import Group

        return approval_services.item_create(
            release=kwargs.pop("on_release", release), actor=manager, title=title, category=category,
            approver_role=Group.objects.get_or_create(name=role)[0] if role else None,
            required_signoffs=signoffs if role else 0, assignee=assignee, required=required,
            evidence_required=evidence_required, **kwargs,
        )

    return make


@pytest.fixture
def done(manager):
    """Mark an item done as `by` (default: its assignee or the manager), with evidence."""

    def mark(item, by=None, evidence_url="https://ci.example.com/build/1"):
        actor = by or item.assignee or manager
        return approval_services.item_update(item=item, actor=actor, state="done", evidence_url=evidence_url)

    return mark
