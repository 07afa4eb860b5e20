from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from .models import ChecklistTemplate, TemplateItem, TemplateSection
from .services import FORMAT


def templates_with_items() -> QuerySet[ChecklistTemplate]:
    items = TemplateItem.objects.select_related("approver_role").order_by("order", "id")
    sections = TemplateSection.objects.order_by("order", "id").prefetch_related(Prefetch("items", queryset=items))
    return ChecklistTemplate.objects.prefetch_related(Prefetch("sections", queryset=sections))


def template_newest(slug: str) -> ChecklistTemplate | None:
    return ChecklistTemplate.objects.filter(slug=slug).order_by("-version").first()


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
