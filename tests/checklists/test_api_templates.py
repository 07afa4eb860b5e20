"""Checklist templates through the API: everyone signed in reads them, administrators write
them; a version a release uses never changes (an edit becomes the next version); export and
import in JSON and YAML, Czech text kept readable."""

import json

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from checklists.models import ChecklistTemplate

from .. import api_fixtures
from ..api_fixtures import API, Row, check_row, mini_template_data, routes_of, template_item

api, world = api_fixtures.api, api_fixtures.world  # the fixtures this module uses


def _new(slug, *items, name=None):
    return {"slug": slug, "name": name or slug.title(), "sections": [{"title": "Main", "items": list(items)}]}


def _yaml_file(data, name="template.yaml"):
    return SimpleUploadedFile(name, yaml.safe_dump(data, allow_unicode=True).encode(), content_type="application/yaml")


FORBIDDEN = (403, "forbidden")
NEW = _new("hotfix", template_item("patch", "Patch reviewed", category="code_review"))
ROWS = [
    Row("templates-list", "get", "/templates/", outsider=200, stakeholder=200),
    Row("template-create", "post", "/templates/", NEW, FORBIDDEN, FORBIDDEN),
    Row("template-get", "get", "/templates/{template}/", outsider=200, stakeholder=200),
    Row("template-put", "put", "/templates/{template}/", mini_template_data(name="Hacked"), FORBIDDEN, FORBIDDEN),
    Row("template-patch", "patch", "/templates/{template}/", {"name": "Hacked"}, FORBIDDEN, FORBIDDEN),
    Row("template-export", "get", "/templates/{template}/export/?format=yaml", outsider=200, stakeholder=200),
    Row("template-import", "post", "/templates/import/", mini_template_data(), FORBIDDEN, FORBIDDEN),
    Row(
        "template-import-file",
        "post",
        "/templates/import/",
        lambda: {"file": _yaml_file(mini_template_data())},
        FORBIDDEN,
        FORBIDDEN,
        multipart=True,
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_anonymous_gets_401(api, world, row):
    response = check_row(api(), row, world, 401)
    assert response.data["code"] == "not_authenticated"


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_outsider_reads_templates_but_writes_none(api, world, row):
    check_row(api(world.outsider), row, world, row.outsider)


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_stakeholder_reads_templates_but_writes_none(api, world, row):
    check_row(api(world.stakeholder), row, world, row.stakeholder)


@pytest.mark.parametrize("row", [r for r in ROWS if r.method != "get"], ids=str)
def test_project_admin_and_release_manager_cannot_write_templates(api, world, row):
    check_row(api(world.manager), row, world, (403, "forbidden"))


def test_every_templates_endpoint_is_in_the_table():
    from checklists.urls import api_urlpatterns

    assert routes_of(api_urlpatterns) <= routes_of(ROWS)


# --- reading -------------------------------------------------------------------------------


def test_list_filters_by_category(api, world, staff):
    from checklists.services import template_create

    template_create(actor=staff, data=_new("docs-only", template_item("readme", "README", category="documentation")))
    template_create(actor=staff, data=_new("pen-test", template_item("pen", "Pen test", category="security")))
    client = api(world.outsider)

    def slugs(query=""):
        response = client.get(f"{API}/templates/?page_size=200{query}")
        assert response.status_code == 200
        return {t["slug"] for t in response.data["results"]}

    assert {"docs-only", "pen-test", "api-mini", "release-readiness"} <= slugs()
    security = slugs("&category=security")
    assert "pen-test" in security
    assert "docs-only" not in security
    assert "api-mini" not in security
    documentation = slugs("&category=documentation")
    assert {"docs-only", "api-mini"} <= documentation
    assert "pen-test" not in documentation
    bad = client.get(f"{API}/templates/?category=astrology")
    assert bad.status_code == 400
    assert "category" in bad.data


def test_get_shows_sections_with_their_items(api, world):
    response = api(world.contributor).get(f"{API}/templates/{world.template.pk}/")
    assert response.status_code == 200
    data = response.data
    assert (data["slug"], data["version"], data["in_use"], data["newest"]) == ("api-mini", 1, True, True)
    assert [s["title"] for s in data["sections"]] == ["Checks"]
    items = data["sections"][0]["items"]
    assert [(i["key"], i["title"], i["approver_role"], i["required_signoffs"]) for i in items] == [
        ("smoke", "Smoke test passes", "QA", 1),
        ("docs", "Docs updated", None, 0),
    ]
    assert items[0]["due_offset_days"] == -1
    assert items[1]["category"] == "documentation"


def test_missing_template_is_404(api, world):
    missing = ChecklistTemplate.objects.order_by("-pk").first().pk + 1000
    assert api(world.outsider).get(f"{API}/templates/{missing}/").status_code == 404
    assert api(world.staff).patch(f"{API}/templates/{missing}/", {"name": "x"}, format="json").status_code == 404


# --- writing -------------------------------------------------------------------------------


def test_staff_creates_a_template(api, world):
    response = api(world.staff).post(f"{API}/templates/", NEW, format="json")
    assert response.status_code == 201, response.data
    assert (response.data["slug"], response.data["version"], response.data["in_use"]) == ("hotfix", 1, False)
    assert response.data["sections"][0]["items"][0]["title"] == "Patch reviewed"
    again = api(world.staff).post(f"{API}/templates/", NEW, format="json")
    assert again.status_code == 400
    assert "slug" in again.data


@pytest.mark.parametrize("method", ["put", "patch"])
def test_editing_a_template_in_use_makes_a_new_version_and_the_release_keeps_its_items(api, world, method):
    client = api(world.staff)
    items_before = client.get(f"{API}/releases/{world.release.pk}/items/").data["results"]
    body = mini_template_data(name="API mini 2")
    body["sections"][0]["items"][0]["title"] = "Smoke test passes on staging"
    if method == "patch":
        body = {"name": body["name"], "sections": body["sections"]}

    response = getattr(client, method)(f"{API}/templates/{world.template.pk}/", body, format="json")
    assert response.status_code == 200, response.data
    assert response.data["version"] == 2
    assert response.data["id"] != world.template.pk
    assert response.data["name"] == "API mini 2"
    assert response.data["sections"][0]["items"][0]["title"] == "Smoke test passes on staging"

    old = client.get(f"{API}/templates/{world.template.pk}/").data
    assert (old["version"], old["name"], old["newest"]) == (1, "API mini", False)
    assert old["sections"][0]["items"][0]["title"] == "Smoke test passes"
    items_after = client.get(f"{API}/releases/{world.release.pk}/items/").data["results"]
    assert [i["title"] for i in items_after] == [i["title"] for i in items_before]
    release = client.get(f"{API}/releases/{world.release.pk}/").data
    assert [(t["slug"], t["version"]) for t in release["templates"]] == [("api-mini", 1)]


def test_editing_an_older_version_is_refused(api, world):
    client = api(world.staff)
    newer = client.patch(f"{API}/templates/{world.template.pk}/", {"name": "API mini 2"}, format="json")
    assert newer.data["version"] == 2
    response = client.patch(f"{API}/templates/{world.template.pk}/", {"name": "API mini 3"}, format="json")
    assert response.status_code == 409
    assert response.data["code"] == "not_newest_version"
    # Every 409 names what stands in the way, even when that is the refusal itself.
    assert [f["code"] for f in response.data["failures"]] == ["not_newest_version"]
    assert response.data["failures"][0]["message"] == response.data["detail"]


def test_editing_an_unused_template_changes_it_in_place(api, world):
    client = api(world.staff)
    created = client.post(f"{API}/templates/", NEW, format="json").data
    response = client.patch(
        f"{API}/templates/{created['id']}/", {"name": "Hotfix", "description": "For urgent fixes."}, format="json"
    )
    assert response.status_code == 200, response.data
    assert (response.data["id"], response.data["version"]) == (created["id"], 1)
    assert (response.data["name"], response.data["description"]) == ("Hotfix", "For urgent fixes.")
    assert response.data["sections"] == created["sections"]
    assert ChecklistTemplate.objects.filter(slug="hotfix").count() == 1


# --- export and import ---------------------------------------------------------------------


@pytest.fixture
def czech():
    return ChecklistTemplate.objects.get(slug="nasazeni-do-produkce", is_builtin=True)


def test_export_as_json(api, world, czech):
    response = api(world.outsider).get(f"{API}/templates/{czech.pk}/export/?format=json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert 'filename="nasazeni-do-produkce-v1.json"' in response["Content-Disposition"]
    text = response.content.decode()
    assert '"name": "Nasazení do produkce"' in text
    data = json.loads(text)
    assert data["format"] == "shipcheck-template/1"
    assert data["language"] == "cs"
    assert sum(len(s["items"]) for s in data["sections"]) == czech.items.count()


def test_export_as_yaml_keeps_czech_readable(api, world, czech):
    response = api(world.outsider).get(f"{API}/templates/{czech.pk}/export/?format=yaml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml; charset=utf-8"
    text = response.content.decode()
    assert "name: Nasazení do produkce" in text
    assert "\\u" not in text
    assert "Ověření kódu" in text
    assert yaml.safe_load(text)["slug"] == "nasazeni-do-produkce"


def test_export_in_an_unknown_format_is_400(api, world):
    response = api(world.outsider).get(f"{API}/templates/{world.template.pk}/export/?format=xml")
    assert response.status_code == 400
    assert "format" in response.data


def test_import_json_body_of_an_existing_slug_makes_a_new_version(api, world):
    data = mini_template_data(name="API mini imported")
    response = api(world.staff).post(f"{API}/templates/import/", data, format="json")
    assert response.status_code == 201, response.data
    assert (response.data["slug"], response.data["version"], response.data["name"]) == (
        "api-mini",
        2,
        "API mini imported",
    )
    assert ChecklistTemplate.objects.get(pk=world.template.pk).name == "API mini"


def test_import_a_new_slug_from_a_json_body(api, world):
    response = api(world.staff).post(f"{API}/templates/import/", NEW, format="json")
    assert response.status_code == 201, response.data
    assert (response.data["slug"], response.data["version"]) == ("hotfix", 1)


def test_exported_yaml_imports_back_as_the_next_version(api, world, czech):
    client = api(world.staff)
    exported = client.get(f"{API}/templates/{czech.pk}/export/?format=yaml").content
    upload = SimpleUploadedFile("nasazeni.yaml", exported, content_type="application/yaml")
    response = client.post(f"{API}/templates/import/", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.data
    assert (response.data["slug"], response.data["version"]) == ("nasazeni-do-produkce", 2)
    assert response.data["name"] == "Nasazení do produkce"
    assert response.data["language"] == "cs"
    original = client.get(f"{API}/templates/{czech.pk}/").data
    assert response.data["sections"] == original["sections"]


def test_import_of_a_broken_yaml_file_is_400_and_makes_nothing(api, world):
    count = ChecklistTemplate.objects.count()
    upload = SimpleUploadedFile("broken.yaml", b"slug: [unclosed\n", content_type="application/yaml")
    response = api(world.staff).post(f"{API}/templates/import/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.data
    assert ChecklistTemplate.objects.count() == count


@pytest.mark.parametrize("name", ["hotfix.json", "hotfix.YAML", "hotfix"])
def test_import_of_a_file_with_a_byte_order_mark(api, world, name):
    text = json.dumps(NEW) if name != "hotfix.YAML" else yaml.safe_dump(NEW)
    upload = SimpleUploadedFile(name, "\ufeff".encode() + text.encode())
    response = api(world.staff).post(f"{API}/templates/import/", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.data
    assert (response.data["slug"], response.data["version"]) == ("hotfix", 1)


def test_import_of_a_file_too_large_names_the_limit(api, world):
    upload = SimpleUploadedFile("big.json", b" " * 2_000_001)
    response = api(world.staff).post(f"{API}/templates/import/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.data["file"] == ["big.json is larger than 2,000,000 bytes."]


# --- one set of rules for template data: the service's ---------------------------------------

BAD_ITEM = [
    ({"category": "vibes"}, "category", "Unknown category 'vibes'"),
    ({"required_signoffs": 21}, "required_signoffs", "A whole number from 0 to 20."),
    ({"due_offset_days": -366}, "due_offset_days", "A whole number of days from -365 to 365."),
    ({"condition_flag": "Not a flag"}, "condition_flag", "A flag name"),
    ({"approver_role": "Astrologers"}, "approver_role", "Unknown approver role 'Astrologers'"),
    ({"key": "Patch_Review"}, "key", "Use lowercase letters, digits and hyphens."),
    ({"title": "x" * 301}, "title", "At most 300 characters."),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_ITEM, ids=[c[1] for c in BAD_ITEM])
def test_create_edit_and_import_refuse_a_bad_item_with_the_same_message(api, world, change, field, message):
    client = api(world.staff)
    body = _new("hotfix", {**template_item("patch", "Patch reviewed", category="code_review"), **change})

    created = client.post(f"{API}/templates/", body, format="json")
    edited = client.put(f"{API}/templates/{world.template.pk}/", {**body, "slug": "api-mini"}, format="json")
    imported = client.post(f"{API}/templates/import/", body, format="json")

    assert [r.status_code for r in (created, edited, imported)] == [400, 400, 400]
    # The import names the path in one key; create and edit nest it as their serializer does.
    [said] = imported.json()[f"sections[0].items[0].{field}"]
    assert said.startswith(message)
    assert created.json() == {"sections": {"0": {"items": {"0": {field: [said]}}}}}
    assert edited.json() == created.json()
    assert ChecklistTemplate.objects.filter(slug="hotfix").count() == 0


def test_create_names_every_problem_at_once(api, world):
    body = _new(
        "hotfix",
        template_item("patch", "Patch reviewed"),
        template_item("patch", "Patch deployed", category="vibes"),
        template_item("notes", "Release notes", due_offset_days=400),
    )
    response = api(world.staff).post(f"{API}/templates/", body, format="json")
    assert response.status_code == 400
    items = response.json()["sections"]["0"]["items"]
    assert items["1"]["key"] == ["Key 'patch' is used twice."]
    assert items["1"]["category"][0].startswith("Unknown category 'vibes'")
    assert items["2"]["due_offset_days"] == ["A whole number of days from -365 to 365."]


def test_create_still_reads_numbers_and_booleans_written_as_text(api, world):
    item = template_item("patch", "Patch reviewed", required_signoffs="2", due_offset_days="-3", required="false")
    response = api(world.staff).post(f"{API}/templates/", _new("hotfix", item), format="json")
    assert response.status_code == 201, response.data
    created = response.data["sections"][0]["items"][0]
    assert (created["required_signoffs"], created["due_offset_days"], created["required"]) == (2, -3, False)
