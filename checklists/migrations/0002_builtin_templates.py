"""Loads the built-in templates (checklists/builtin/*.json, from the seed documents) and
creates the approver roles they use as groups."""

from django.db import migrations


def load(apps, schema_editor):
    from checklists.services import TemplateModels, builtin_templates_load

    builtin_templates_load(
        TemplateModels(
            template=apps.get_model("checklists", "ChecklistTemplate"),
            section=apps.get_model("checklists", "TemplateSection"),
            item=apps.get_model("checklists", "TemplateItem"),
            group=apps.get_model("auth", "Group"),
        )
    )


def unload(apps, schema_editor):
    Template = apps.get_model("checklists", "ChecklistTemplate")
    Template.objects.filter(is_builtin=True, version=1).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("checklists", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(load, unload)]
