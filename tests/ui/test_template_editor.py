"""Checklist templates in Chromium: an administrator makes a template with two sections,
moves rows, fixes what the service refuses and saves; edits a template a release uses (a
new version), compares the versions, imports a YAML file and downloads exports. Others
read templates but get no editor. axe on the list, a template's page and the editor."""

import pytest
import yaml
from playwright.sync_api import Page, expect

from checklists.models import ChecklistTemplate
from tests.browser import login, serious_accessibility_violations

pytestmark = pytest.mark.django_db(transaction=True)


def _item(key, title, *, role="QA"):
    return {
        "key": key,
        "title": title,
        "category": "functional_testing",
        "approver_role": role,
        "required_signoffs": 1 if role else 0,
    }


@pytest.fixture
def ship_it(scenario, staff):
    return scenario.custom_template(
        {
            "slug": "ship-it",
            "name": "Ship it",
            "description": "Our own checks.",
            "sections": [{"title": "Before", "items": [_item("smoke", "Smoke test passes"), _item("docs", "Docs")]}],
        }
    )


def _item_group(page: Page, number: str):
    return page.get_by_role("group", name=f"Item {number}", exact=True)


def test_staff_creates_a_template_with_two_sections_moves_rows_and_saves(page: Page, live_server, staff):
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/templates/")
    page.get_by_role("link", name="New template").click()
    expect(page.get_by_role("heading", name="New checklist template")).to_be_visible()
    page.get_by_label("Slug").fill("launch")
    page.get_by_label("Name").fill("Launch day")
    page.get_by_label("Section 1 title").fill("Checks")
    _item_group(page, "1.1").get_by_label("Title").fill("Smoke test")
    page.get_by_role("button", name="Add an item to section 1").click()
    _item_group(page, "1.2").get_by_label("Title").fill("Backup taken")
    expect(_item_group(page, "1.2").get_by_label("Title")).to_be_focused()
    _item_group(page, "1.2").get_by_label("Approver role").select_option("Operations")
    _item_group(page, "1.2").get_by_label("Sign-offs needed").fill("2")
    page.get_by_role("button", name="Add a section").click()
    page.get_by_label("Section 2 title").fill("Comms")
    _item_group(page, "2.1").get_by_label("Title").fill("Announce")
    _item_group(page, "2.1").get_by_label("Category").select_option("communication")
    _item_group(page, "2.1").get_by_label("Due, days from go-live").fill("-3")

    # Moves keep what was typed and keep the keyboard on the moved row's button.
    page.get_by_role("button", name="Move item 1.2 up").click()
    expect(_item_group(page, "1.1").get_by_label("Title")).to_have_value("Backup taken")
    expect(page.get_by_role("button", name="Move item 1.1 down")).to_be_focused()
    page.get_by_role("button", name="Move section 2 up").click()
    expect(page.get_by_label("Section 1 title")).to_have_value("Comms")
    expect(page.get_by_role("button", name="Move section 1 down")).to_be_focused()
    assert serious_accessibility_violations(page) == []
    page.screenshot(path="/tmp/ui-templates-editor.png", full_page=True)

    # Two items have no category yet: the service says so next to them, nothing is lost.
    page.get_by_role("button", name="Save", exact=True).click()
    category = _item_group(page, "2.1").get_by_label("Category")
    expect(category).to_have_attribute("aria-invalid", "true")
    expect(_item_group(page, "2.1").locator(".errorlist")).to_contain_text("Unknown category")
    expect(_item_group(page, "1.1").locator(".errorlist")).to_have_count(0)  # Comms' item has one
    expect(_item_group(page, "2.2").get_by_label("Title")).to_have_value("Smoke test")
    assert serious_accessibility_violations(page) == []
    category.select_option("data_backup")
    _item_group(page, "2.2").get_by_label("Category").select_option("functional_testing")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_role("heading", name="Launch day v1")).to_be_visible()
    expect(page.get_by_text("Template “Launch day” created.")).to_be_visible()
    sections = page.locator("main section h3")
    expect(sections).to_have_text(["1. Comms", "2. Checks"])
    expect(page.locator("main section").nth(1).locator("h4")).to_have_text(["Backup taken", "Smoke test"])
    expect(page.get_by_text("Operations, 2 sign-offs")).to_be_visible()
    expect(page.get_by_text("3 days before go-live")).to_be_visible()
    template = ChecklistTemplate.objects.get(slug="launch")
    assert [item.key for item in template.items.order_by("section__order", "order")] == [
        "announce",
        "backup-taken",
        "smoke-test",
    ]


def test_editing_a_used_template_makes_a_new_version_and_the_diff_shows_the_change(
    page: Page, live_server, scenario, staff, project, manager, ship_it
):
    scenario.create(project, "Billing", "3.0", templates=[ship_it])
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/templates/{ship_it.pk}/")
    page.get_by_role("link", name="Edit").click()
    expect(page.locator("#new-version-note")).to_contain_text("Saving creates version 2")
    _item_group(page, "1.2").get_by_label("Title").fill("Docs and changelog")
    _item_group(page, "1.2").get_by_label("Evidence required").check()
    page.get_by_role("button", name="Remove item 1.1").click()
    expect(_item_group(page, "1.2")).to_have_count(0)
    page.get_by_role("button", name="Save as version 2").click()

    expect(page.get_by_role("heading", name="Ship it v2")).to_be_visible()
    expect(page.get_by_text("Saved as version 2; the releases that use version 1 keep it.")).to_be_visible()
    page.get_by_role("link", name="Compare with v1").click()
    expect(page.get_by_role("heading", name="Ship it: changes from v1 to v2")).to_be_visible()
    expect(page.locator(".diff-removed")).to_contain_text("Smoke test passes")
    changed = page.locator(".diff-changed")
    expect(changed).to_contain_text("Docs and changelog")
    expect(changed.get_by_role("row", name="Title")).to_contain_text("Docs")
    expect(changed.get_by_role("row", name="Evidence required")).to_contain_text("no")
    expect(changed.get_by_role("row", name="Evidence required")).to_contain_text("yes")
    page.screenshot(path="/tmp/ui-templates-diff.png", full_page=True)
    assert serious_accessibility_violations(page) == []
    assert ChecklistTemplate.objects.get(pk=ship_it.pk).items.count() == 2  # v1 as the release has it


def test_staff_imports_a_yaml_file_and_sees_the_files_errors(page: Page, live_server, staff):
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/templates/")
    page.get_by_role("link", name="Import").click()
    page.get_by_label("Template file").set_input_files(
        files=[{"name": "bad.yaml", "mimeType": "application/yaml", "buffer": b"slug: [unclosed"}]
    )
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".errorlist")).to_contain_text("bad.yaml is not valid YAML")

    data = {"slug": "hotfix", "name": "Hotfix", "sections": [{"title": "Fix", "items": [_item("tests", "Tests")]}]}
    data["sections"][0]["items"][0]["category"] = "nonsense"
    page.get_by_label("Template file").set_input_files(
        files=[{"name": "hotfix.yaml", "mimeType": "application/yaml", "buffer": yaml.safe_dump(data).encode()}]
    )
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".errorlist.nonfield")).to_contain_text("sections[0].items[0].category: Unknown category")
    assert serious_accessibility_violations(page) == []

    data["sections"][0]["items"][0]["category"] = "functional_testing"
    page.get_by_label("Template file").set_input_files(
        files=[{"name": "hotfix.yaml", "mimeType": "application/yaml", "buffer": yaml.safe_dump(data).encode()}]
    )
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Hotfix v1")).to_be_visible()
    expect(page.get_by_text("Imported “Hotfix” as version 1.")).to_be_visible()


def test_anyone_downloads_exports_but_only_staff_gets_the_editor(page: Page, live_server, contributor, ship_it):
    login(page, live_server, "contributor")
    page.goto(f"{live_server.url}/templates/")
    expect(page.get_by_role("link", name="Ship it")).to_be_visible()
    expect(page.get_by_role("link", name="New template")).to_have_count(0)
    expect(page.get_by_role("link", name="Import")).to_have_count(0)
    assert serious_accessibility_violations(page) == []
    page.get_by_role("link", name="Ship it").click()
    expect(page.get_by_role("heading", name="Ship it v1")).to_be_visible()
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    assert serious_accessibility_violations(page) == []
    page.screenshot(path="/tmp/ui-templates-detail.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Export YAML").click()
    assert download.value.suggested_filename == "ship-it-v1.yaml"
    with open(download.value.path(), encoding="utf-8") as exported:
        assert yaml.safe_load(exported)["sections"][0]["items"][0]["key"] == "smoke"
    with page.expect_download() as download:
        page.get_by_role("link", name="Export JSON").click()
    assert download.value.suggested_filename == "ship-it-v1.json"

    page.goto(f"{live_server.url}/templates/{ship_it.pk}/edit/")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_text("Only administrators can change checklist templates.")).to_be_visible()


def test_list_shows_the_newest_version_and_folds_older_ones_at_360px(
    page: Page, live_server, scenario, staff, project, manager, ship_it
):
    from checklists.selectors import template_export_data
    from checklists.services import template_update

    scenario.create(project, "Billing", "3.0", templates=[ship_it])
    data = template_export_data(ship_it)
    data["name"] = "Ship it safely"
    template_update(template=ship_it, actor=staff, data=data)
    page.set_viewport_size({"width": 360, "height": 800})
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/templates/")
    page.get_by_label("Search by name").fill("ship")
    page.get_by_role("button", name="Search").click()

    expect(page.get_by_role("link", name="Ship it safely")).to_be_visible()
    expect(page.get_by_role("link", name="v1 · Ship it")).to_be_hidden()
    page.get_by_text("1 older version").click()
    expect(page.get_by_role("link", name="v1 · Ship it")).to_be_visible()
    expect(page.get_by_role("link", name="Release readiness")).to_have_count(0)
    page.screenshot(path="/tmp/ui-templates-list-360.png", full_page=True)
    assert serious_accessibility_violations(page) == []
