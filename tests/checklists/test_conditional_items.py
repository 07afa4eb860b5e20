"""Conditional items: template items that apply only when the release has their flag."""

import datetime as dt

from approvals.services import item_update
from releases.models import AuditEvent
from releases.services import release_update


def _keys(release):
    return set(release.items.values_list("source_key", flat=True))


def test_conditional_item_is_left_out_without_its_flag(ship_it, make_release):
    release = make_release()

    assert "migration-plan" not in _keys(release)
    assert len(_keys(release)) == 4


def test_conditional_item_is_included_when_the_release_has_its_flag(ship_it, make_release):
    release = make_release(flags=["database_migration"])

    assert "migration-plan" in _keys(release)


def test_setting_the_flag_later_adds_the_item(ship_it, make_release, manager):
    release = make_release()

    release_update(release=release, actor=manager, flags=["database_migration"])

    item = release.items.get(source_key="migration-plan")
    assert item.title == "Migration plan reviewed"
    assert item.due_at == release.go_live_at - dt.timedelta(days=2)  # due_offset_days -2
    event = AuditEvent.objects.get(release=release, action="item.created", target_id=item.pk)
    assert event.actor == manager
    assert event.after["condition_flag"] == "database_migration"


def test_setting_the_flag_twice_adds_the_item_once(ship_it, make_release, manager):
    release = make_release()
    release_update(release=release, actor=manager, flags=["database_migration"])

    release_update(release=release, actor=manager, flags=["database_migration", "downtime"])

    assert release.items.filter(source_key="migration-plan").count() == 1


def test_unsetting_the_flag_removes_the_untouched_item(ship_it, make_release, manager):
    release = make_release(flags=["database_migration"])

    release_update(release=release, actor=manager, flags=[])

    assert "migration-plan" not in _keys(release)
    assert AuditEvent.objects.filter(release=release, action="item.removed").count() == 1


def test_unsetting_the_flag_keeps_an_item_someone_worked_on(ship_it, make_release, manager, contributor):
    release = make_release(flags=["database_migration"])
    item = release.items.get(source_key="migration-plan")
    item = item_update(item=item, actor=manager, assignee=contributor)
    item_update(item=item, actor=contributor, state="in_progress", note="Drafting the plan.")

    release_update(release=release, actor=manager, flags=[])

    assert "migration-plan" in _keys(release)
    assert not AuditEvent.objects.filter(release=release, action="item.removed").exists()


def test_builtin_release_readiness_has_its_migration_item_only_with_the_flag(make_release, manager):
    plain = make_release(templates=["release-readiness"], name="Plain")
    migrating = make_release(templates=["release-readiness"], flags=["database_migration"], name="Migrating")

    assert plain.items.count() == 16
    assert migrating.items.count() == 17
    assert "data-migration-plan" in _keys(migrating) - _keys(plain)

    release_update(release=plain, actor=manager, flags=["database_migration"])
    assert plain.items.count() == 17
