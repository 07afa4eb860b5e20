"""The list filters of API.md narrow the list to what they name (not only refuse garbage):
each one is tried against data where some rows match and some don't."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group

from approvals.models import ChecklistItem
from checklists.models import ChecklistTemplate
from releases import services as release_services

from ..factories import in_days

API = "/api/v1"


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return sorted(r.get("name") or r.get("title") or r.get("slug") for r in response.json()["results"])


@pytest.fixture
def releases(scenario, project, manager):
    other = scenario.project("Payments", "payments", admins=[manager])

    def make(name, *, on=project, days, state="draft", description=""):
        rel = scenario.create(
            on, name, "1.0", description=description, go_live_at=in_days(days), rollback_plan="Redeploy."
        )
        if state != "draft":
            rel = release_services.release_transition(release=rel, actor=manager, to=state)
        return rel

    make("Alpha", days=5, description="the invoicing rewrite")
    make("Bravo", days=20, state="in_progress")
    make("Charlie", on=other, days=40, state="cancelled")
    return other


def test_release_filters_narrow_the_list(releases, manager, project, api_as):
    client = api_as(manager)

    def names(**params):
        return _names(client.get(f"{API}/releases/", params))

    assert names() == ["Alpha", "Bravo", "Charlie"]
    assert names(state="in_progress") == ["Bravo"]
    assert names(state="cancelled") == ["Charlie"]
    assert names(project=project.pk) == ["Alpha", "Bravo"]
    assert names(project=releases.pk) == ["Charlie"]
    assert names(go_live_after=in_days(10).isoformat()) == ["Bravo", "Charlie"]
    assert names(go_live_before=in_days(10).isoformat()) == ["Alpha"]
    # The offset is honoured: the same instant written in another time zone.
    cut = in_days(30).astimezone(dt.timezone(dt.timedelta(hours=-8)))
    assert names(go_live_after=in_days(10).isoformat(), go_live_before=cut.isoformat()) == ["Bravo"]
    assert names(search="brav") == ["Bravo"]
    assert names(search="INVOICING") == ["Alpha"]
    assert names(search="nothing like it") == []
    assert names(state="draft", project=project.pk) == ["Alpha"]


def test_item_filters_narrow_the_checklist(release, manager, contributor, make_item, done, api_as):
    make_item(title="Threat model", category="security", assignee=contributor)
    late = make_item(title="Load test", role="QA", category="performance")
    make_item(title="Release notes", role=None, category="documentation", due_at=in_days(-1))
    finished = make_item(title="Backup verified", role="Operations", category="data_backup", due_at=in_days(-2))
    done(finished)
    ChecklistItem.objects.filter(pk=late.pk).update(due_at=in_days(-3))
    client = api_as(manager)
    url = f"{API}/releases/{release.pk}/items/"

    def titles(**params):
        return _names(client.get(url, params))

    everything = ["Backup verified", "Load test", "Release notes", "Threat model"]
    assert titles() == everything
    assert titles(state="done") == ["Backup verified"]
    assert titles(state="open") == ["Load test", "Release notes", "Threat model"]
    assert titles(category="performance") == ["Load test"]
    assert titles(category="security") == ["Threat model"]
    assert titles(assignee=contributor.pk) == ["Threat model"]
    assert titles(assignee=manager.pk) == []
    assert titles(approver_role="Operations") == ["Backup verified"]
    # Overdue: past due and not finished (the finished one, also past due, is not).
    assert titles(overdue="true") == ["Load test", "Release notes"]
    assert titles(overdue="false") == ["Backup verified", "Threat model"]
    assert titles(overdue="1", category="documentation") == ["Release notes"]


def test_template_filters_narrow_the_list(manager, api_as):
    Group.objects.get_or_create(name="QA")
    client = api_as(manager)

    def slugs(**params):
        response = client.get(f"{API}/templates/", {**params, "page_size": 200})
        assert response.status_code == 200, response.content[:500]
        return sorted({r["slug"] for r in response.json()["results"]})

    builtin = sorted(ChecklistTemplate.objects.values_list("slug", flat=True).distinct())
    assert slugs() == builtin
    assert slugs(slug="deployment-plan") == ["deployment-plan"]
    with_training = sorted(
        ChecklistTemplate.objects.filter(items__category="training").values_list("slug", flat=True).distinct()
    )
    without = sorted(set(builtin) - set(with_training))
    assert with_training, "some built-in template should have a training item"
    assert without, "some built-in template should have none"
    assert slugs(category="training") == with_training
