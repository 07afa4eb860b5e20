"""Template versions: a version a release uses is never changed; edits become a new version,
and two imports at the same moment get a version each."""

import copy

import pytest
from django.db import IntegrityError

from checklists.models import ChecklistTemplate
from checklists.services import template_clean, template_create, template_import, template_update
from config.domain import Conflict, Forbidden, Invalid
from releases.models import AuditEvent, ReleaseTemplate
from tests.concurrency import at_once


def _retitle(data, key, title):
    for section in data["sections"]:
        for item in section["items"]:
            if item["key"] == key:
                item["title"] = title
    return data


def test_editing_a_template_in_use_creates_a_new_version(ship_it, ship_it_data, make_release, staff):
    release = make_release()

    new = template_update(template=ship_it, actor=staff, data=_retitle(ship_it_data, "smoke-test", "Smoke suite green"))

    assert new.version == 2
    assert new.pk != ship_it.pk
    assert new.items.get(key="smoke-test").title == "Smoke suite green"
    # The release keeps the copy it was given, and v1 is unchanged.
    assert ReleaseTemplate.objects.get(release=release).template == ship_it
    assert set(release.items.values_list("template", flat=True)) == {ship_it.pk}
    assert release.items.get(source_key="smoke-test").title == "Smoke test passes"
    assert ship_it.items.get(key="smoke-test").title == "Smoke test passes"
    assert AuditEvent.objects.filter(action="template.versioned", target_id=new.pk).exists()


def test_a_new_release_gets_the_newest_version(ship_it, ship_it_data, make_release, staff):
    make_release(name="First")
    template_update(template=ship_it, actor=staff, data=_retitle(ship_it_data, "smoke-test", "Smoke suite green"))

    second = make_release(name="Second")

    assert ReleaseTemplate.objects.get(release=second).template.version == 2
    assert second.items.get(source_key="smoke-test").title == "Smoke suite green"


def test_editing_an_unused_template_edits_it_in_place(ship_it, ship_it_data, staff):
    ship_it_data["name"] = "Ship it safely"

    edited = template_update(template=ship_it, actor=staff, data=_retitle(ship_it_data, "docs", "Docs and changelog"))

    assert (edited.pk, edited.version) == (ship_it.pk, 1)
    assert ChecklistTemplate.objects.filter(slug="ship-it").count() == 1
    ship_it.refresh_from_db()
    assert ship_it.name == "Ship it safely"
    assert ship_it.items.get(key="docs").title == "Docs and changelog"


def test_only_the_newest_version_can_be_edited(ship_it, ship_it_data, make_release, staff):
    make_release()
    template_update(template=ship_it, actor=staff, data=_retitle(ship_it_data, "docs", "Docs v2"))

    with pytest.raises(Conflict) as exc:
        template_update(template=ship_it, actor=staff, data=_retitle(ship_it_data, "docs", "Docs v3"))

    assert exc.value.code == "not_newest_version"
    assert ChecklistTemplate.objects.filter(slug="ship-it").count() == 2
    assert ship_it.items.get(key="docs").title == "Docs updated"


def test_non_staff_cannot_create_or_edit_templates(ship_it, ship_it_data, manager):
    with pytest.raises(Forbidden):
        template_update(template=ship_it, actor=manager, data=_retitle(ship_it_data, "docs", "Docs v2"))
    with pytest.raises(Forbidden):
        template_create(actor=manager, data={**ship_it_data, "slug": "mine"})

    assert ship_it.items.get(key="docs").title == "Docs updated"
    assert not ChecklistTemplate.objects.filter(slug="mine").exists()


def test_invalid_template_data_names_each_bad_field(ship_it, ship_it_data, staff):
    items = ship_it_data["sections"][0]["items"]
    items[0]["category"] = "vibes"
    items[1]["required_signoffs"] = -1
    ship_it_data["sections"][1]["items"][0]["key"] = "docs"  # used twice

    with pytest.raises(Invalid) as exc:
        template_update(template=ship_it, actor=staff, data=ship_it_data)

    assert exc.value.code == "invalid_template"
    fields = set(exc.value.fields)
    assert "sections[0].items[0].category" in fields
    assert "sections[0].items[1].required_signoffs" in fields
    assert "sections[1].items[0].key" in fields
    assert ship_it.items.get(key="smoke-test").category == "functional_testing"


@pytest.mark.parametrize("category", [["security"], {"name": "security"}])
def test_a_template_item_category_that_is_not_text_is_invalid(db, ship_it_data, category):
    ship_it_data["sections"][0]["items"][0]["category"] = category

    with pytest.raises(Invalid) as exc:
        template_clean(ship_it_data)

    assert exc.value.code == "invalid_template"
    assert list(exc.value.fields) == ["sections[0].items[0].category"]


def test_signoffs_without_an_approver_role_are_invalid(staff, ship_it_data):
    ship_it_data["sections"][0]["items"][0]["approver_role"] = None

    with pytest.raises(Invalid) as exc:
        template_create(actor=staff, data=ship_it_data)

    assert "sections[0].items[0].approver_role" in exc.value.fields


def test_an_approver_role_with_no_signoffs_is_invalid(staff, ship_it_data):
    ship_it_data["sections"][0]["items"][0]["required_signoffs"] = 0

    with pytest.raises(Invalid) as exc:
        template_create(actor=staff, data=ship_it_data)

    assert exc.value.fields["sections[0].items[0].required_signoffs"] == [
        "An item with an approver role needs at least one sign-off; clear the role for an item nobody signs."
    ]
    # Nobody signs an item without a role: that is a valid item.
    ship_it_data["sections"][0]["items"][0]["approver_role"] = None
    first = template_create(actor=staff, data=ship_it_data).items.get(
        key=ship_it_data["sections"][0]["items"][0]["key"]
    )
    assert (first.approver_role, first.required_signoffs) == (None, 0)


def test_an_unknown_approver_role_is_invalid_and_creates_no_role(staff, ship_it_data):
    from django.contrib.auth.models import Group

    ship_it_data["sections"][0]["items"][0]["approver_role"] = "Secruity"

    with pytest.raises(Invalid) as exc:
        template_create(actor=staff, data=ship_it_data)

    message = exc.value.fields["sections[0].items[0].approver_role"][0]
    assert message.startswith("Unknown approver role 'Secruity'; one of: ")
    assert "Security" in message
    assert not Group.objects.filter(name="Secruity").exists()
    assert not ChecklistTemplate.objects.filter(slug=ship_it_data["slug"]).exists()


def test_sections_of_the_wrong_type_are_named_as_such(staff, ship_it_data):
    with pytest.raises(Invalid) as exc:
        template_create(actor=staff, data={**ship_it_data, "sections": "nope"})

    assert exc.value.fields["sections"] == ["A list of sections, each with a title and items."]


def test_template_slug_cannot_change(ship_it, ship_it_data, staff):
    with pytest.raises(Invalid) as exc:
        template_update(template=ship_it, actor=staff, data={**ship_it_data, "slug": "ship-it-2"})

    assert "slug" in exc.value.fields


def test_template_slug_is_unique(ship_it, ship_it_data, staff):
    with pytest.raises(Invalid) as exc:
        template_create(actor=staff, data=ship_it_data)

    assert "slug" in exc.value.fields


# --- two imports of the same template at the same moment ---------------------------------


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
def test_importing_a_new_slug_twice_at_once_never_ends_in_an_integrity_error(postgresql, staff, ship_it_data):
    for n in range(5):
        slug = f"ship-it-{n}"
        data = {**ship_it_data, "slug": slug}
        results = at_once(
            lambda: template_import(actor=staff, data=copy.deepcopy(data)),
            lambda: template_import(actor=staff, data=copy.deepcopy(data)),
        )
        _assert_one_wins_or_both_get_versions(slug, results, before=set())
        assert 1 in _versions(slug)


@pytest.mark.django_db(transaction=True)
def test_importing_an_existing_slug_twice_at_once_gives_distinct_versions(postgresql, staff, ship_it_data):
    template_import(actor=staff, data=copy.deepcopy(ship_it_data))
    for _ in range(3):
        before = _versions("ship-it")
        results = at_once(
            lambda: template_import(actor=staff, data=copy.deepcopy(ship_it_data)),
            lambda: template_import(actor=staff, data=copy.deepcopy(ship_it_data)),
        )
        _assert_one_wins_or_both_get_versions("ship-it", results, before=before)
