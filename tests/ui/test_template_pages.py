"""The template pages through Django's test client where a browser adds nothing: who may
open the editor and the import, export files, bad input next to its field, the diff, and
the list and a template's page costing the same queries for few or many templates/items."""

import json

import pytest
import yaml
from django.urls import reverse

from checklists.models import ChecklistTemplate
from checklists.services import template_update
from tests.factories import PASSWORD


def _item(key, title, *, role="QA", **extra):
    return {
        "key": key,
        "title": title,
        "category": "functional_testing",
        "approver_role": role,
        "required_signoffs": 1 if role else 0,
        **extra,
    }


def _data(slug="ship-it", items=2, sections=1):
    return {
        "slug": slug,
        "name": slug.replace("-", " ").title(),
        "sections": [
            {"title": f"Part {s}", "items": [_item(f"check-{s}-{i}", f"Check {s}.{i}") for i in range(items)]}
            for s in range(sections)
        ],
    }


@pytest.fixture
def ship_it(scenario, staff):
    return scenario.custom_template(_data())


def _signed_in(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def _editor_post(*, name="Ship it", sections):
    post = {"name": name, "description": "", "language": "en"}
    for s, (title, items) in enumerate(sections):
        post[f"sections-{s}-title"] = title
        for i, item in enumerate(items):
            prefix = f"sections-{s}-items-{i}-"
            row = {"key": "", "guidance": "", "approver_role": "", "required_signoffs": "0", "due_offset_days": "0"}
            row.update(item)
            for field, value in row.items():
                if value is True:
                    post[prefix + field] = "on"
                elif value is not False:
                    post[prefix + field] = value
    return post


def test_non_staff_sees_list_and_detail_without_the_editor_buttons(client, contributor, ship_it):
    _signed_in(client, contributor)

    listing = client.get(reverse("template-list")).content.decode()
    detail = client.get(reverse("template-detail", args=[ship_it.pk])).content.decode()

    assert "Ship It" in listing
    assert "New template" not in listing
    assert "Import" not in listing
    assert "Check 0.1" in detail
    assert "Export YAML" in detail
    assert reverse("template-edit", args=[ship_it.pk]) not in detail


def test_non_staff_is_refused_the_editor_and_the_import(client, contributor, ship_it):
    _signed_in(client, contributor)
    edit = reverse("template-edit", args=[ship_it.pk])

    assert client.get(reverse("template-new")).status_code == 403
    assert client.get(edit).status_code == 403
    assert client.get(reverse("template-import")).status_code == 403
    refused = client.post(
        edit, _editor_post(name="Mine now", sections=[("Part", [{"title": "X", "category": "other"}])])
    )

    assert refused.status_code == 403
    assert ChecklistTemplate.objects.get(pk=ship_it.pk).name == "Ship It"


def test_a_template_that_does_not_exist_is_the_404_page(client, outsider):
    _signed_in(client, outsider)

    for name in ("template-detail", "template-edit", "template-export", "template-diff"):
        assert client.get(reverse(name, args=[999999])).status_code == 404


def test_export_gives_the_same_file_as_the_api(client, staff, contributor, ship_it):
    _signed_in(client, contributor)
    pages = {}

    for fmt in ("json", "yaml"):
        page = client.get(reverse("template-export", args=[ship_it.pk]), {"format": fmt})
        api = client.get(reverse("api-template-export", args=[ship_it.pk]), {"format": fmt})
        assert page.status_code == 200
        assert page.content == api.content
        assert page["Content-Disposition"] == f'attachment; filename="ship-it-v1.{fmt}"'
        pages[fmt] = page.content

    assert json.loads(pages["json"])["slug"] == "ship-it"
    assert yaml.safe_load(pages["yaml"])["sections"][0]["items"][1]["title"] == "Check 0.1"


def test_bad_input_shows_the_services_messages_next_to_the_fields_and_keeps_what_was_typed(client, staff):
    _signed_in(client, staff)
    post = _editor_post(
        sections=[
            ("Before", [{"title": "Smoke test", "category": "functional_testing"}]),
            ("After", [{"title": "Watch the graphs", "category": "", "due_offset_days": "soon", "guidance": "Look."}]),
        ]
    )
    post["slug"] = "Not A Slug"

    page = client.post(reverse("template-new"), post)

    html = page.content.decode()
    assert page.status_code == 200
    assert not ChecklistTemplate.objects.filter(name="Ship it").exists()
    assert 'id="s1-i0-category-error"' in html
    assert "Unknown category" in html
    assert 'id="s1-i0-due_offset_days-error"' in html
    assert 'value="soon"' in html
    assert 'id="s0-i0-category-error"' not in html
    assert "Use lowercase letters, digits and hyphens." in html
    assert 'value="Not A Slug"' in html
    assert 'value="Watch the graphs"' in html
    assert ">Look.</textarea>" in html


def test_structure_buttons_change_rows_without_saving(client, staff):
    _signed_in(client, staff)
    post = _editor_post(
        sections=[("One", [{"title": "A", "category": "other"}, {"title": "B", "category": "other"}])],
    )

    moved = client.post(reverse("template-new"), {**post, "op": "down-item:0:0"}, headers={"HX-Request": "true"})

    html = moved.content.decode()
    assert html.index('value="B"') < html.index('value="A"')
    assert "<html" not in html  # only the rows, for htmx to swap
    assert not ChecklistTemplate.objects.filter(name="Ship it").exists()
    added = client.post(reverse("template-new"), {**post, "op": "add-section"}).content.decode()
    assert 'name="sections-1-title"' in added
    assert 'name="sections-1-items-0-title"' in added


def test_diff_shows_items_added_removed_and_changed(client, staff, manager, contributor, project, scenario, ship_it):
    scenario.create(project, "Billing", "3.0", templates=[ship_it])
    data = _data()
    data["sections"][0]["items"][0]["title"] = "Check zero"
    data["sections"][0]["items"][0]["required_signoffs"] = 2
    del data["sections"][0]["items"][1]
    data["sections"][0]["items"].append(_item("new-check", "A new check"))
    v2 = template_update(template=ship_it, actor=staff, data=data)
    _signed_in(client, contributor)

    html = client.get(reverse("template-diff", args=[v2.pk]), {"against": ship_it.pk}).content.decode()

    assert "changes from v1 to v2" in html
    assert "<ins>A new check</ins>" in html
    assert "<del>Check 0.1</del>" in html
    assert "<del>Check 0.0</del>" in html
    assert "<ins>Check zero</ins>" in html
    assert "<del>1</del>" in html
    assert "<ins>2</ins>" in html


@pytest.mark.parametrize(("url_name", "queries"), [("template-list", 4), ("template-detail", 7)])
def test_list_and_detail_cost_the_same_queries_for_few_and_many(
    client, staff, scenario, django_assert_max_num_queries, url_name, queries
):
    small = scenario.custom_template(_data("small", items=1))
    _signed_in(client, staff)
    url = reverse(url_name, args=[small.pk]) if url_name == "template-detail" else reverse(url_name)
    with django_assert_max_num_queries(queries):
        assert client.get(url).status_code == 200

    big = scenario.custom_template(_data("big", items=30, sections=4))
    for n in range(10):
        scenario.custom_template(_data(f"more-{n}", items=3))
    url = reverse(url_name, args=[big.pk]) if url_name == "template-detail" else reverse(url_name)
    with django_assert_max_num_queries(queries):
        assert client.get(url).status_code == 200


def test_only_the_newest_version_is_edited_the_service_says_why(client, staff, manager, project, scenario, ship_it):
    scenario.create(project, "Billing", "3.0", templates=[ship_it])
    template_update(template=ship_it, actor=staff, data=_data())
    _signed_in(client, staff)
    edit = reverse("template-edit", args=[ship_it.pk])

    shown = client.get(edit).content.decode()
    refused = client.post(edit, _editor_post(sections=[("Part", [{"title": "Late", "category": "other"}])]))

    assert "only the newest version (v2) can be edited" in shown
    assert "Version 1 is not the newest version of &#x27;ship-it&#x27;; edit the newest." in refused.content.decode()
    assert 'value="Late"' in refused.content.decode()
    assert ChecklistTemplate.objects.filter(slug="ship-it").count() == 2
