"""Regressions for the gaps the domain review found (commit b917fcf), on the item side:
what an item's state needs after every change, separation of duties when approvals are
counted, template upgrades that respect the manager's edits and record each item, and a
write to an item removed meanwhile."""

import copy

import pytest

from approvals.models import ChecklistItem
from approvals.services import (
    checklist_apply_template,
    item_status,
    item_update,
    release_template_upgrade,
    signoff_grant,
)
from checklists.services import template_create, template_update
from config.domain import Invalid, NotFound
from releases.models import AuditEvent
from releases.services import release_update

State = ChecklistItem.State


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
def cutover(staff):
    return template_create(actor=staff, data=copy.deepcopy(CUTOVER))


@pytest.fixture
def on_cutover(release, cutover, manager):
    """The in-progress release with cutover v1 applied."""
    checklist_apply_template(release=release, template=cutover, actor=manager)
    return release


def _items(release):
    return {item.source_key: item for item in release.items.all()}


def _item_events(item_pk, action):
    return AuditEvent.objects.filter(
        target_type=ChecklistItem._meta.label_lower, target_id=item_pk, action=action
    ).order_by("id")


# --- what an item's state needs, after every change --------------------------------------


def test_clearing_the_evidence_of_a_done_item_that_needs_it_is_refused(make_item, done, contributor):
    item = done(make_item(assignee=contributor, evidence_required=True), evidence_url="https://ci.example.com/b/7")

    with pytest.raises(Invalid) as exc:
        item_update(item=item, actor=contributor, evidence_url="")

    assert exc.value.code == "evidence_required"
    assert list(exc.value.fields) == ["evidence_url"]
    item.refresh_from_db()
    assert (item.state, item.evidence_url) == (State.DONE, "https://ci.example.com/b/7")


def test_requiring_evidence_on_a_done_item_without_any_is_refused(make_item, contributor, manager):
    item = make_item(assignee=contributor, evidence_required=False)
    item = item_update(item=item, actor=contributor, state="done")

    with pytest.raises(Invalid) as exc:
        item_update(item=item, actor=manager, evidence_required=True)

    assert exc.value.code == "evidence_required"
    assert "evidence_url" in exc.value.fields
    item.refresh_from_db()
    assert (item.state, item.evidence_required) == (State.DONE, False)


def test_clearing_the_justification_of_a_not_applicable_item_is_refused(make_item, contributor):
    item = make_item(assignee=contributor)
    item = item_update(item=item, actor=contributor, state="not_applicable", justification="No UI changes.")

    # Before the fix the database's check constraint refused it: an IntegrityError (a 500).
    with pytest.raises(Invalid) as exc:
        item_update(item=item, actor=contributor, justification="")

    assert exc.value.code == "justification_required"
    assert list(exc.value.fields) == ["justification"]
    item.refresh_from_db()
    assert (item.state, item.justification) == (State.NOT_APPLICABLE, "No UI changes.")


def test_clearing_the_reason_of_a_blocked_item_is_refused(make_item, contributor):
    item = make_item(assignee=contributor)
    item = item_update(item=item, actor=contributor, state="blocked", blocked_reason="Waiting for the vendor.")

    with pytest.raises(Invalid) as exc:
        item_update(item=item, actor=contributor, blocked_reason="")

    assert exc.value.code == "blocked_reason_required"
    assert list(exc.value.fields) == ["blocked_reason"]
    item.refresh_from_db()
    assert (item.state, item.blocked_reason) == (State.BLOCKED, "Waiting for the vendor.")


def test_leaving_blocked_clears_the_blocked_reason(make_item, contributor):
    item = make_item(assignee=contributor)
    item = item_update(item=item, actor=contributor, state="blocked", blocked_reason="Waiting for the vendor.")

    item_update(item=item, actor=contributor, state="in_progress")

    item.refresh_from_db()
    assert (item.state, item.blocked_reason) == (State.IN_PROGRESS, "")


# --- separation of duties when approvals are counted -------------------------------------


def test_approval_stops_counting_when_the_item_is_reassigned_to_its_approver(
    release, make_item, done, contributor, qa, manager, readiness
):
    item = make_item(assignee=contributor)
    done(item, by=contributor)
    signoff_grant(item=item, actor=qa, decision="approve")
    assert item_status(item).valid_approvals == 1
    assert readiness(release) == 100

    item_update(item=item, actor=manager, assignee=qa)

    status = item_status(item)
    assert (status.valid_approvals, status.is_signed, status.is_ready) == (0, False, False)
    assert readiness(release) == 0


def test_relaxing_self_signoff_lets_the_assignees_approval_count_again(
    release, make_item, done, contributor, qa, manager, readiness
):
    item = make_item(assignee=contributor)
    done(item, by=contributor)
    signoff_grant(item=item, actor=qa, decision="approve")
    item_update(item=item, actor=manager, assignee=qa)
    assert item_status(item).valid_approvals == 0

    release_update(release=release, actor=manager, allow_self_signoff=True)

    status = item_status(item)
    assert (status.valid_approvals, status.is_ready) == (1, True)
    assert readiness(release) == 100


# --- template upgrade: the manager's edits stay, each item change is recorded -------------


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


# --- an item removed while the caller held a stale copy ----------------------------------


def test_updating_an_item_removed_meanwhile_is_not_found(on_cutover, manager):
    release_update(release=on_cutover, actor=manager, flags=["database_migration"])
    stale = on_cutover.items.get(source_key="migration")
    release_update(release=on_cutover, actor=manager, flags=[])  # untouched: removed
    assert not ChecklistItem.objects.filter(pk=stale.pk).exists()

    with pytest.raises(NotFound) as exc:
        item_update(item=stale, actor=manager, title="Migration rehearsed twice")

    assert exc.value.code == "not_found"
