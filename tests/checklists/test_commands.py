"""export_template / import_template: every point of the seed documents comes out, and what
comes out goes back in unchanged."""

import io
import json
import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from checklists.models import ChecklistTemplate
from releases.models import AuditEvent
from tests.factories import UserFactory

SEEDS = Path(settings.BASE_DIR) / "docs" / "seeds"


def seed_points(filename: str) -> list[str]:
    """The point names of a seed document, each in its own markup."""
    text = (SEEDS / filename).read_text(encoding="utf-8")
    patterns = {
        # "- Code Review and Approval: Ensure all code ..."
        "release-readiness-checklist.md": r"^- ([^:\n]+):",
        # "1. **Staging Environment:**"
        "deployment-plan.md": r"^\d+\.\s+\*\*(.+?):\*\*",
        # "- **Ověření Kódu**"
        "deployment-checklist-cs.md": r"^-\s+\*\*(.+?)\*\*",
    }
    return [name.strip() for name in re.findall(patterns[filename], text, flags=re.MULTILINE)]


def export(slug, *args):
    out = io.StringIO()
    call_command("export_template", slug, *args, stdout=out)
    return out.getvalue()


def import_file(path, *args):
    out = io.StringIO()
    call_command("import_template", str(path), *args, stdout=out)
    return out.getvalue()


def titles(data):
    return [item["title"] for section in data["sections"] for item in section["items"]]


@pytest.fixture
def admin_user(scenario):
    return scenario.person("root", staff=True, superuser=True)


def test_seed_documents_have_the_expected_number_of_points():
    # Guards the parsing below: an empty list would make the export tests pass vacuously.
    assert len(seed_points("release-readiness-checklist.md")) == 18
    assert len(seed_points("deployment-plan.md")) == 13
    assert len(seed_points("deployment-checklist-cs.md")) == 14


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["yaml", "json"])
@pytest.mark.parametrize(
    ("slug", "seed"),
    [
        ("release-readiness", "release-readiness-checklist.md"),
        ("deployment-plan", "deployment-plan.md"),
    ],
)
def test_export_shows_every_point_of_the_seed_document(slug, seed, fmt):
    text = export(slug, "--format", fmt)

    data = yaml.safe_load(text) if fmt == "yaml" else json.loads(text)
    exported = titles(data)
    missing = [point for point in seed_points(seed) if point not in exported]
    assert missing == []
    for point in seed_points(seed):
        assert point in text


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_czech_export_shows_every_point_readably(fmt):
    text = export("nasazeni-do-produkce", "--format", fmt)

    data = yaml.safe_load(text) if fmt == "yaml" else json.loads(text)
    exported = {title.casefold() for title in titles(data)}
    points = seed_points("deployment-checklist-cs.md")
    assert [p for p in points if p.casefold() not in exported] == []
    # Czech stays Czech: no \u escapes, the accented titles are in the text as written.
    assert "\\u" not in text
    assert "Ověření kódu" in text
    assert "Školení provozního personálu" in text
    assert data["language"] == "cs"


@pytest.mark.django_db
def test_export_yaml_keeps_the_exchange_format_order():
    data = yaml.safe_load(export("release-readiness", "--format", "yaml"))

    assert list(data) == ["format", "slug", "name", "description", "language", "sections"]
    assert data["format"] == "shipcheck-template/1"
    first = data["sections"][0]["items"][0]
    assert first["key"] == "code-review"
    assert first["approver_role"] == "Engineering"


@pytest.mark.django_db
def test_export_json_is_the_default_format():
    data = json.loads(export("deployment-plan"))

    assert data["slug"] == "deployment-plan"


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["yaml", "json"])
@pytest.mark.parametrize("slug", ["release-readiness", "deployment-plan", "nasazeni-do-produkce"])
def test_export_import_export_gives_the_same_content(slug, fmt, admin_user, tmp_path):
    first = export(slug, "--format", fmt)
    path = tmp_path / f"{slug}.{fmt}"
    path.write_text(first, encoding="utf-8")

    output = import_file(path)

    assert output.strip() == f"Imported {slug} v2 ({len(titles(yaml.safe_load(first)))} items)"
    second = export(slug, "--format", fmt)
    assert second == first
    assert ChecklistTemplate.objects.filter(slug=slug).count() == 2


@pytest.mark.django_db
def test_import_of_an_existing_slug_creates_the_next_version_and_keeps_the_old(admin_user, tmp_path):
    data = json.loads(export("deployment-plan"))
    data["sections"][0]["items"][0]["title"] = "Staging environment (renamed)"
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data), encoding="utf-8")

    output = import_file(path)

    assert "Imported deployment-plan v2 (13 items)" in output
    versions = dict(ChecklistTemplate.objects.filter(slug="deployment-plan").values_list("version", "is_builtin"))
    assert versions == {1: True, 2: False}
    assert titles(json.loads(export("deployment-plan", "--version", "1")))[0] == "Staging Environment"
    assert titles(json.loads(export("deployment-plan")))[0] == "Staging environment (renamed)"
    event = AuditEvent.objects.get(action="template.imported")
    assert (event.actor, event.after) == (admin_user, {"slug": "deployment-plan", "version": 2})


@pytest.mark.django_db
def test_import_of_a_new_slug_creates_version_1_as_the_named_staff_user(admin_user, tmp_path):
    staff = UserFactory(username="templater", is_staff=True)
    path = tmp_path / "hotfix.yml"
    path.write_text(
        "slug: hotfix\nname: Hotfix\nlanguage: cs\nsections:\n"
        "- title: Příprava\n  items:\n"
        "  - {title: Ověření opravy, category: functional_testing, approver_role: QA}\n",
        encoding="utf-8",
    )

    output = import_file(path, "--as", "templater")

    assert output.strip() == "Imported hotfix v1 (1 items)"
    template = ChecklistTemplate.objects.get(slug="hotfix")
    assert (template.version, template.created_by, template.items.get().title) == (1, staff, "Ověření opravy")


@pytest.mark.django_db
def test_import_sniffs_json_in_a_file_without_extension(admin_user, tmp_path):
    path = tmp_path / "template"
    path.write_text(export("deployment-plan"), encoding="utf-8")

    assert "Imported deployment-plan v2" in import_file(path)


@pytest.mark.django_db
def test_import_of_invalid_data_lists_each_field_error(admin_user, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "slug: Bad Slug\nsections:\n- title: Checks\n  items:\n"
        "  - {title: Smoke test, category: smoke, approver_role: QA}\n"
        "  - {title: Sign, category: other, required_signoffs: 1}\n",
        encoding="utf-8",
    )

    with pytest.raises(CommandError) as caught:
        import_file(path)

    message = str(caught.value)
    assert "The template is not valid." in message
    assert "slug: Use lowercase letters, digits and hyphens." in message
    assert "name: This field is required." in message
    assert "sections[0].items[0].category: Unknown category 'smoke'" in message
    assert "sections[0].items[1].approver_role: An item that needs sign-offs needs an approver role." in message
    assert not ChecklistTemplate.objects.filter(name="").exists()
    assert ChecklistTemplate.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.json", '{"slug": "x",', "is not valid JSON"),
        ("broken.yaml", "slug: [x\n", "is not valid YAML"),
        ("list.yaml", "- just\n- a list\n", "Template data must be an object."),
    ],
)
def test_import_of_an_unreadable_file_says_why(name, content, expected, admin_user, tmp_path):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    with pytest.raises(CommandError, match=expected):
        import_file(path)


@pytest.mark.django_db
def test_import_of_a_missing_file_names_it(admin_user, tmp_path):
    with pytest.raises(CommandError, match=r"No such file: .*nothing\.json"):
        import_file(tmp_path / "nothing.json")


@pytest.mark.django_db
def test_import_without_a_superuser_tells_how_to_proceed(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(export("deployment-plan"), encoding="utf-8")

    with pytest.raises(CommandError, match=r"createsuperuser.*--as USERNAME"):
        import_file(path)
    assert ChecklistTemplate.objects.filter(slug="deployment-plan").count() == 1


@pytest.mark.django_db
def test_import_as_a_non_staff_user_is_refused(tmp_path):
    UserFactory(username="dev")
    path = tmp_path / "plan.json"
    path.write_text(export("deployment-plan"), encoding="utf-8")

    with pytest.raises(CommandError, match=r"Only administrators can change checklist templates\."):
        import_file(path, "--as", "dev")
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        import_file(path, "--as", "ghost")


@pytest.mark.django_db
def test_export_of_an_unknown_slug_lists_the_known_ones():
    with pytest.raises(CommandError) as caught:
        export("release-readyness")

    assert str(caught.value) == (
        "No template with slug 'release-readyness'. "
        "Known templates: deployment-plan, nasazeni-do-produkce, release-readiness."
    )


@pytest.mark.django_db
def test_export_of_an_unknown_version_lists_the_versions():
    with pytest.raises(CommandError, match=r"Template 'deployment-plan' has no version 7; it has: 1\."):
        export("deployment-plan", "--version", "7")


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "content"), [("deep.json", "[" * 100_000), ("deep.yaml", "[" * 100_000)])
def test_import_of_a_file_nested_too_deeply_says_so(name, content, admin_user, tmp_path):
    path = tmp_path / name
    path.write_text(content + "]" * 100_000, encoding="utf-8")

    with pytest.raises(CommandError, match=r"deep\.(json|yaml) is nested too deeply\."):
        import_file(path)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["plan.json", "plan.YML"])
def test_import_reads_utf8_with_a_byte_order_mark(name, admin_user, tmp_path):
    data = json.loads(export("deployment-plan"))
    text = json.dumps(data) if name.endswith(".json") else yaml.safe_dump(data, allow_unicode=True)
    path = tmp_path / name
    path.write_bytes("\ufeff".encode() + text.encode())

    assert "Imported deployment-plan v2 (13 items)" in import_file(path)


@pytest.mark.django_db
def test_import_of_text_the_database_cant_store_names_the_field(admin_user, tmp_path):
    data = json.loads(export("deployment-plan"))
    data["sections"][0]["items"][1]["title"] = "Smoke\x00test"
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data), encoding="utf-8")

    with pytest.raises(CommandError, match=r"sections\[0\]\.items\[1\]\.title: Contains characters that can't"):
        import_file(path)
    assert ChecklistTemplate.objects.filter(slug="deployment-plan").count() == 1


@pytest.mark.django_db
def test_import_of_a_file_that_is_not_utf8_says_so(admin_user, tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes("name: Nasazení\n".encode("latin-1"))

    with pytest.raises(CommandError, match=r"latin\.yaml is not UTF-8 text\."):
        import_file(path)
