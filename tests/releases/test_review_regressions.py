"""Regressions for the gaps the domain review found (commit b917fcf), on the release side:
an approved release that stops meeting its go/no-go goes back to work (and loses its freeze
override), bad input is a DomainError rather than a 500, and racing template imports never
end in an IntegrityError."""

import copy
import threading

import pytest
from django.db import IntegrityError, connection

from approvals.services import checklist_apply_template, item_update, release_template_upgrade
from checklists.models import ChecklistTemplate
from checklists.services import template_clean, template_create, template_import, template_update
from config.domain import Conflict, Invalid
from releases.models import Release
from releases.services import release_create, release_transition, release_update

from ..factories import in_days
from .conftest import fresh, last_audit

S = Release.State

GATE = {
    "slug": "gate",
    "name": "Go-live gate",
    "sections": [
        {
            "title": "Gate",
            "items": [
                {
                    "key": "runbook",
                    "title": "Runbook written",
                    "category": "deployment",
                    "required_signoffs": 0,
                },
            ],
        }
    ],
}


def _gate(**changes):
    data = copy.deepcopy(GATE)
    data["sections"][0]["items"][0].update(changes)
    return data


# --- an approved release goes back to in_progress when its go/no-go breaks ---------------


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


def test_a_template_upgrade_adding_a_required_item_reopens_the_approved_release(release, staff, manager):
    gate = template_create(actor=staff, data=_gate())
    (runbook,) = checklist_apply_template(release=release, template=gate, actor=manager)
    item_update(item=runbook, actor=manager, state="done")
    release_transition(release=release, actor=manager, to="approved")
    v2 = _gate()
    v2["sections"][0]["items"].append(
        {"key": "dashboards", "title": "Dashboards ready", "category": "monitoring", "required_signoffs": 0}
    )
    template_update(template=gate, actor=staff, data=v2)

    summary = release_template_upgrade(release=release, slug="gate", actor=manager)

    assert summary["added"] == ["Dashboards ready"]
    release = fresh(release)
    assert release.state == S.IN_PROGRESS
    assert last_audit(release, "release.in_progress").after["reason"] == "Template 'gate' upgraded"


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


# --- bad input is a DomainError (400), not a 500 -----------------------------------------


@pytest.mark.parametrize("category", [["security"], {"name": "security"}])
def test_a_template_item_category_that_is_not_text_is_invalid(db, category):
    data = _gate(category=category)

    with pytest.raises(Invalid) as exc:
        template_clean(data)

    assert exc.value.code == "invalid_template"
    assert list(exc.value.fields) == ["sections[0].items[0].category"]


def _create(project, manager, **kwargs):
    return release_create(actor=manager, project=project, name="Ledger", go_live_at=in_days(10), **kwargs)


def test_flags_none_is_invalid(project, manager):
    with pytest.raises(Invalid) as exc:
        _create(project, manager, flags=None)

    assert list(exc.value.fields) == ["flags"]
    assert not Release.objects.filter(name="Ledger").exists()


def test_flags_as_one_string_is_invalid_not_split_into_letters(project, manager):
    with pytest.raises(Invalid) as exc:
        _create(project, manager, flags="downtime")

    assert list(exc.value.fields) == ["flags"]
    assert not Release.objects.filter(name="Ledger").exists()


def test_stakeholder_emails_as_one_string_is_invalid(project, manager):
    with pytest.raises(Invalid) as exc:
        _create(project, manager, stakeholder_emails="a@b.c")

    assert list(exc.value.fields) == ["stakeholder_emails"]
    # the whole value is refused as not a list, not letter by letter ("'a' is not an e-mail")
    assert "list" in exc.value.fields["stakeholder_emails"][0]
    assert not Release.objects.filter(name="Ledger").exists()


# --- two imports of the same template at the same moment ---------------------------------


def _at_once(*calls):
    """Run the calls in threads released together; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def _versions(slug):
    return set(ChecklistTemplate.objects.filter(slug=slug).values_list("version", flat=True))


def _assert_one_wins_or_both_get_versions(slug, results, *, before):
    assert not any(isinstance(r, IntegrityError) for r in results), results
    won = [r for r in results if isinstance(r, ChecklistTemplate)]
    lost = [r for r in results if not isinstance(r, ChecklistTemplate)]
    assert won, results
    assert all(isinstance(r, Conflict) and r.code == "version_conflict" for r in lost), results
    versions = [t.version for t in won]
    assert len(set(versions)) == len(versions)
    assert _versions(slug) - before == set(versions)


@pytest.mark.django_db(transaction=True)
def test_importing_a_new_slug_twice_at_once_never_ends_in_an_integrity_error(postgresql, staff):
    for n in range(5):
        slug = f"gate-{n}"
        data = {**_gate(), "slug": slug}
        results = _at_once(
            lambda: template_import(actor=staff, data=copy.deepcopy(data)),
            lambda: template_import(actor=staff, data=copy.deepcopy(data)),
        )
        _assert_one_wins_or_both_get_versions(slug, results, before=set())
        assert 1 in _versions(slug)


@pytest.mark.django_db(transaction=True)
def test_importing_an_existing_slug_twice_at_once_gives_distinct_versions(postgresql, staff):
    template_import(actor=staff, data=_gate())
    for _ in range(3):
        before = _versions("gate")
        results = _at_once(
            lambda: template_import(actor=staff, data=_gate()),
            lambda: template_import(actor=staff, data=_gate()),
        )
        _assert_one_wins_or_both_get_versions("gate", results, before=before)
