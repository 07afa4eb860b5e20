from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet

from releases.models import ReleaseTemplate

from .models import ITEM_FIELDS, ChecklistTemplate, TemplateItem, TemplateSection
from .services import FORMAT


def templates_with_items() -> QuerySet[ChecklistTemplate]:
    items = TemplateItem.objects.select_related("approver_role").order_by("order", "id")
    sections = TemplateSection.objects.order_by("order", "id").prefetch_related(Prefetch("items", queryset=items))
    return ChecklistTemplate.objects.prefetch_related(Prefetch("sections", queryset=sections))


def template_newest(slug: str) -> ChecklistTemplate | None:
    return ChecklistTemplate.objects.filter(slug=slug).order_by("-version").first()


def template_get(*, slug: str, version: int | None = None) -> ChecklistTemplate | None:
    """That version of the template, or its newest when no version is given."""
    if version is None:
        return template_newest(slug)
    return ChecklistTemplate.objects.filter(slug=slug, version=version).first()


def template_builtin(slug: str) -> ChecklistTemplate | None:
    """The version the data migration loaded (not one imported later)."""
    return ChecklistTemplate.objects.filter(slug=slug, is_builtin=True).order_by("version").first()


def template_versions(slug: str) -> list[int]:
    return list(ChecklistTemplate.objects.filter(slug=slug).order_by("version").values_list("version", flat=True))


def templates_with_usage(qs: QuerySet[ChecklistTemplate] | None = None) -> QuerySet[ChecklistTemplate]:
    """Annotates item_count and in_use (a release's checklist was made from this version)."""
    qs = ChecklistTemplate.objects.all() if qs is None else qs
    return qs.annotate(
        item_count=Count("items"),
        in_use=Exists(ReleaseTemplate.objects.filter(template=OuterRef("pk"))),
    )


def template_export_data(template: ChecklistTemplate) -> dict[str, Any]:
    """The template in the exchange format (see services). Import of this gives the same content."""
    template = templates_with_items().get(pk=template.pk)
    return {
        "format": FORMAT,
        "slug": template.slug,
        "name": template.name,
        "description": template.description,
        "language": template.language,
        "sections": [
            {
                "title": section.title,
                "items": [
                    {
                        "key": item.key,
                        "title": item.title,
                        "guidance": item.guidance,
                        "category": item.category,
                        "required": item.required,
                        "approver_role": item.approver_role.name if item.approver_role else None,
                        "required_signoffs": item.required_signoffs,
                        "evidence_required": item.evidence_required,
                        "due_offset_days": item.due_offset_days,
                        "condition_flag": item.condition_flag,
                    }
                    for item in section.items.all()
                ],
            }
            for section in template.sections.all()
        ],
    }


DIFF_FIELDS = ("section", *ITEM_FIELDS)


def _items_by_key(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        item["key"]: {"section": section["title"], **item} for section in data["sections"] for item in section["items"]
    }


def template_diff(old: ChecklistTemplate, new: ChecklistTemplate) -> dict[str, Any]:
    """What changed from one version to another, items matched by key (as an upgrade
    matches them): the heading fields that moved, items added, removed and changed (each
    change a field with its value before and after)."""
    old_data, new_data = template_export_data(old), template_export_data(new)
    before, after = _items_by_key(old_data), _items_by_key(new_data)
    changed = []
    for key, item in after.items():
        if key in before:
            changes = [
                {"field": name, "before": before[key][name], "after": item[name]}
                for name in DIFF_FIELDS
                if before[key][name] != item[name]
            ]
            if changes:
                changed.append({"key": key, "title": item["title"], "changes": changes})
    return {
        "heading": [
            {"field": name, "before": old_data[name], "after": new_data[name]}
            for name in ("name", "description", "language")
            if old_data[name] != new_data[name]
        ],
        "added": [item for key, item in after.items() if key not in before],
        "removed": [item for key, item in before.items() if key not in after],
        "changed": changed,
    }
