"""A release in flight opting in to a newer version of its template."""

import copy

import pytest

from approvals.models import ChecklistItem
from approvals.selectors import item_status
from approvals.services import (
    checklist_apply_template,
    item_update,
    release_template_upgrade,
)
from checklists.services import template_update
from config.domain import Conflict, Forbidden
from releases.models import AuditEvent, ReleaseTemplate
from releases.services import release_transition


def _items(release):
    return {item.source_key: item for item in release.items.all()}


def _v2(data):
    """The next version: smoke-test and docs retitled, monitoring added, backup and legacy dropped."""
    before = data["sections"][0]["items"]
    by_key = {item["key"]: item for item in before}
    by_key["smoke-test"]["title"] = "Smoke suite green"
    by_key["docs"]["title"] = "Docs and changelog"
    data["sections"][0]["items"] = [
        by_key["smoke-test"],
        by_key["docs"],
        {
            "key": "monitoring",
            "title": "Dashboards ready",
            "category": "monitoring",
            "approver_role": "Operations",
            "due_offset_days": -1,
        },
    ]
    return data


@pytest.fixture
def in_flight(scenario, ship_it, ship_it_data, make_release, manager, qa, ops, staff):
    """A release on ship-it v1 with smoke-test and backup done and signed, then v2 published."""
    release = make_release()
    items = _items(release)
    for key, approver in (("smoke-test", qa), ("backup", ops)):
        item = scenario.work_item(items[key], by=manager, evidence_url="https://ci.example.com/1")
        scenario.signoff(item, approver)
    v2 = template_update(template=ship_it, actor=staff, data=_v2(ship_it_data))
    assert v2.version == 2
    return release


def test_upgrade_adds_new_items_and_updates_untouched_ones(in_flight, manager):
    release_template_upgrade(release=in_flight, slug="ship-it", actor=manager)

    items = _items(in_flight)
    assert items["monitoring"].title == "Dashboards ready"
    assert items["monitoring"].state == ChecklistItem.State.OPEN
    assert items["monitoring"].due_at is not None
    assert items["docs"].title == "Docs and changelog"
    assert items["docs"].template.version == 2


def test_upgrade_keeps_the_title_of_a_signed_item(in_flight, manager):
    release_template_upgrade(release=in_flight, slug="ship-it", actor=manager)

    smoke = _items(in_flight)["smoke-test"]
    assert smoke.title == "Smoke test passes"
    assert smoke.state == ChecklistItem.State.DONE
    assert item_status(smoke).is_ready  # its approval still counts


def test_upgrade_never_removes_a_signed_item_but_removes_untouched_dropped_ones(in_flight, manager):
    release_template_upgrade(release=in_flight, slug="ship-it", actor=manager)

    items = _items(in_flight)
    assert "backup" in items
    assert item_status(items["backup"]).is_ready
    assert "legacy" not in items


def test_upgrade_is_recorded_and_moves_the_release_to_the_new_version(in_flight, manager):
    summary = release_template_upgrade(release=in_flight, slug="ship-it", actor=manager)

    assert (summary["from_version"], summary["to_version"]) == (1, 2)
    assert summary["added"] == ["Dashboards ready"]
    assert summary["updated"] == ["Docs and changelog"]
    assert summary["removed"] == ["Legacy check"]
    assert set(summary["kept"]) == {"Smoke test passes", "Database backed up"}
    assert ReleaseTemplate.objects.get(release=in_flight).template.version == 2
    event = AuditEvent.objects.get(release=in_flight, action="release.template_upgraded")
    assert event.actor == manager
    assert event.after["removed"] == ["Legacy check"]


def test_upgrading_again_is_refused(in_flight, manager):
    release_template_upgrade(release=in_flight, slug="ship-it", actor=manager)

    with pytest.raises(Conflict) as exc:
        release_template_upgrade(release=in_flight, slug="ship-it", actor=manager)

    assert exc.value.code == "already_newest"


def test_upgrade_without_a_newer_version_is_refused(ship_it, make_release, manager):
    release = make_release()

    with pytest.raises(Conflict) as exc:
        release_template_upgrade(release=release, slug="ship-it", actor=manager)

    assert exc.value.code == "already_newest"


def test_only_a_release_manager_can_upgrade(in_flight, qa):
    with pytest.raises(Forbidden):
        release_template_upgrade(release=in_flight, slug="ship-it", actor=qa)

    assert ReleaseTemplate.objects.get(release=in_flight).template.version == 1


def test_a_live_release_is_not_upgraded(in_flight, manager):
    for item in in_flight.items.exclude(state=ChecklistItem.State.DONE):
        item_update(item=item, actor=manager, required=False)
    release_transition(release=in_flight, actor=manager, to="approved")
    release_transition(release=in_flight, actor=manager, to="live")

    with pytest.raises(Conflict) as exc:
        release_template_upgrade(release=in_flight, slug="ship-it", actor=manager)

    assert exc.value.code == "release_live"
    assert ReleaseTemplate.objects.get(release=in_flight).template.version == 1


# --- the manager's edits stay, each item change is recorded ------------------------------


def _row(key, title, **extra):
    return {
        "key": key,
        "title": title,
        "category": "deployment",
        "approver_role": None,
        "required_signoffs": 0,
        **extra,
    }


CUTOVER = {
    "slug": "cutover",
    "name": "Cutover",
    "sections": [
        {
            "title": "Before",
            "items": [
                _row("smoke", "Smoke test passes"),
                _row("runbook", "Runbook written"),
                _row("dns", "DNS checked"),
                _row("legacy", "Legacy check"),
                _row("pager", "Pager rota set"),
                _row("migration", "Migration rehearsed", condition_flag="database_migration"),
            ],
        }
    ],
}


def _cutover_v2():
    """Every v1 item retitled, legacy and pager dropped, monitoring added."""
    data = copy.deepcopy(CUTOVER)
    data["sections"][0]["items"] = [
        _row("smoke", "Smoke suite green"),
        _row("runbook", "Runbook reviewed"),
        _row("dns", "DNS and TLS checked"),
        _row("monitoring", "Dashboards ready"),
        _row("migration", "Migration rehearsed", condition_flag="database_migration"),
    ]
    return data


@pytest.fixture
def cutover(scenario, staff):
    return scenario.custom_template(copy.deepcopy(CUTOVER))


@pytest.fixture
def on_cutover(release, cutover, manager):
    """The in-progress release with cutover v1 applied."""
    checklist_apply_template(release=release, template=cutover, actor=manager)
    return release


def _item_events(item_pk, action):
    return AuditEvent.objects.filter(
        target_type=ChecklistItem._meta.label_lower, target_id=item_pk, action=action
    ).order_by("id")


def test_upgrade_keeps_open_items_the_manager_renamed_or_assigned(on_cutover, cutover, staff, manager, contributor):
    items = _items(on_cutover)
    item_update(item=items["runbook"], actor=manager, title="Runbook in the wiki")
    item_update(item=items["dns"], actor=manager, assignee=contributor)
    item_update(item=items["pager"], actor=manager, assignee=contributor)
    template_update(template=cutover, actor=staff, data=_cutover_v2())

    summary = release_template_upgrade(release=on_cutover, slug="cutover", actor=manager)

    assert set(summary["kept"]) == {"Runbook in the wiki", "DNS checked", "Pager rota set"}
    assert summary["updated"] == ["Smoke suite green"]
    assert summary["removed"] == ["Legacy check"]
    items = _items(on_cutover)
    assert items["runbook"].title == "Runbook in the wiki"
    assert (items["dns"].title, items["dns"].assignee) == ("DNS checked", contributor)
    assert "pager" in items  # dropped by v2, but assigned: not removed
    assert items["smoke"].title == "Smoke suite green"
    assert "legacy" not in items


def test_upgrade_records_each_added_updated_and_removed_item(on_cutover, cutover, staff, manager):
    v1 = _items(on_cutover)
    template_update(template=cutover, actor=staff, data=_cutover_v2())

    release_template_upgrade(release=on_cutover, slug="cutover", actor=manager)

    monitoring = _items(on_cutover)["monitoring"]
    created = _item_events(monitoring.pk, "item.created").get()
    assert (created.actor, created.release_id) == (manager, on_cutover.pk)
    assert created.after["title"] == "Dashboards ready"
    assert created.after["version"] == 2

    updated = _item_events(v1["smoke"].pk, "item.updated").get()
    assert updated.before["title"] == "Smoke test passes"
    assert updated.after["title"] == "Smoke suite green"

    removed = {e.before["title"] for e in AuditEvent.objects.filter(release=on_cutover, action="item.removed")}
    assert removed == {"Legacy check", "Pager rota set"}
    assert _item_events(v1["legacy"].pk, "item.removed").get().actor == manager
