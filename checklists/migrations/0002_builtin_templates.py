"""Loads the built-in templates (checklists/builtin/*.json, from the seed documents) and
creates the approver roles they use as groups."""

import json
from pathlib import Path

from django.db import migrations

BUILTIN = Path(__file__).resolve().parent.parent / "builtin"
ROLES = ["Engineering", "QA", "Security", "Operations", "Data", "Legal", "Product", "Support"]


def load(apps, schema_editor):
    from checklists.services import TemplateModels, template_clean, template_write_rows

    models = TemplateModels(
        template=apps.get_model("checklists", "ChecklistTemplate"),
        section=apps.get_model("checklists", "TemplateSection"),
        item=apps.get_model("checklists", "TemplateItem"),
        group=apps.get_model("auth", "Group"),
    )
    for name in ROLES:
        models.group.objects.get_or_create(name=name)
    for path in sorted(BUILTIN.glob("*.json")):
        data = template_clean(json.loads(path.read_text(encoding="utf-8")))
        if not models.template.objects.filter(slug=data["slug"]).exists():
            template_write_rows(data=data, version=1, is_builtin=True, models=models)


def unload(apps, schema_editor):
    Template = apps.get_model("checklists", "ChecklistTemplate")
    Template.objects.filter(is_builtin=True, version=1).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("checklists", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(load, unload)]
