"""A release manager applies another template to a release that already exists (PRODUCT.md:
release managers apply templates), through the service and PATCH /releases/{id}/."""

import pytest
from rest_framework.test import APIClient

from approvals.models import ChecklistItem
from checklists.models import ChecklistTemplate
from config.domain import Conflict, Forbidden, Invalid
from releases.models import AuditEvent
from releases.services import release_create, release_transition, release_update

from ..factories import in_days


def _release(manager, project, **kwargs):
    return release_create(
        actor=manager,
        project=project,
        name="Checkout",
        go_live_at=in_days(14),
        rollback_plan="Redeploy.",
        **kwargs,
    )


def _slugs(release):
    return sorted(release.applied_templates.values_list("slug", flat=True))


def test_a_template_is_added_to_an_existing_release(project, manager):
    release = _release(manager, project, templates=["release-readiness"], flags=["database_migration"])
    before = set(release.items.values_list("pk", flat=True))

    release_update(release=release, actor=manager, templates=["release-readiness", "deployment-plan"])

    assert _slugs(release) == ["deployment-plan", "release-readiness"]
    added = ChecklistItem.objects.filter(release=release).exclude(pk__in=before)
    newest = ChecklistTemplate.objects.filter(slug="deployment-plan").order_by("-version").first()
    expected = newest.items.exclude(condition_flag__in=["downtime", "customer_facing", "security_sensitive"])
    assert sorted(added.values_list("title", flat=True)) == sorted(expected.values_list("title", flat=True))
    assert set(added.values_list("source_slug", flat=True)) == {"deployment-plan"}
    assert set(release.items.filter(pk__in=before).values_list("pk", flat=True)) == before  # nothing else touched
    event = AuditEvent.objects.get(action="release.template_applied", after__template="deployment-plan")
    assert event.actor == manager


def test_listing_the_applied_templates_again_changes_nothing(project, manager):
    release = _release(manager, project, templates=["release-readiness"])
    count = release.items.count()
    applied = release.applied_templates.get().template

    release_update(release=release, actor=manager, templates=["release-readiness"])
    release_update(release=release, actor=manager, templates=[str(applied.pk)])

    assert release.items.count() == count
    assert AuditEvent.objects.filter(action="release.template_applied").count() == 1


def test_an_applied_template_cant_be_taken_off(project, manager):
    release = _release(manager, project, templates=["release-readiness", "deployment-plan"])
    count = release.items.count()

    with pytest.raises(Invalid) as exc:
        release_update(release=release, actor=manager, templates=["deployment-plan", "nasazeni-do-produkce"])

    assert exc.value.code == "template_removal"
    assert "release-readiness" in exc.value.fields["templates"][0]
    assert _slugs(release) == ["deployment-plan", "release-readiness"]
    assert release.items.count() == count


def test_another_version_of_an_applied_template_is_the_upgrades_business(project, manager, staff):
    from checklists.selectors import template_export_data
    from checklists.services import template_update

    release = _release(manager, project, templates=["release-readiness"])
    old = release.applied_templates.get().template
    data = {**template_export_data(old), "name": "Release readiness (2027)"}
    newer = template_update(template=old, actor=staff, data=data)
    assert newer.version == old.version + 1

    with pytest.raises(Invalid) as exc:
        release_update(release=release, actor=manager, templates=[str(newer.pk)])

    assert exc.value.code == "template_version"
    assert release.applied_templates.get().template == old


def test_only_a_release_manager_applies_templates_and_only_before_approval(project, manager, contributor):
    release = _release(manager, project)
    with pytest.raises(Forbidden):
        release_update(release=release, actor=contributor, templates=["deployment-plan"])
    assert not release.items.exists()

    release_transition(release=release, actor=manager, to="cancelled", reason="Merged into 3.2.")
    with pytest.raises(Conflict):
        release_update(release=release, actor=manager, templates=["deployment-plan"])
    assert not release.items.exists()


def test_applying_a_template_through_the_api(project, manager, contributor):
    release = _release(manager, project, templates=["release-readiness"])
    client = APIClient()
    client.force_authenticate(manager)
    url = f"/api/v1/releases/{release.pk}/"

    response = client.patch(url, {"templates": ["release-readiness", "deployment-plan"]}, format="json")
    assert response.status_code == 200, response.data
    assert sorted(t["slug"] for t in response.data["templates"]) == ["deployment-plan", "release-readiness"]

    response = client.patch(url, {"templates": ["deployment-plan"]}, format="json")
    assert response.status_code == 400
    assert "release-readiness" in response.data["templates"][0]

    response = client.patch(url, {"templates": ["no-such-template"]}, format="json")
    assert response.status_code == 400
    assert response.data["templates"]

    client.force_authenticate(contributor)
    response = client.patch(
        url, {"templates": ["release-readiness", "deployment-plan", "nasazeni-do-produkce"]}, format="json"
    )
    assert response.status_code == 403
    assert _slugs(release) == ["deployment-plan", "release-readiness"]
