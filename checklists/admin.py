"""Admin for checklist templates, with their sections and items inline.

A version that a release uses is read-only here: releases keep the copy they were given,
and a change to it becomes the next version (import the changed template, or use the API).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import ForeignKey, QuerySet
from django.forms import ModelChoiceField, ModelForm
from django.http import HttpRequest, HttpResponse

from .models import ChecklistTemplate, TemplateItem, TemplateSection
from .selectors import templates_with_usage
from .services import template_in_use

IN_USE_MESSAGE = (
    "A release uses this version, so it can't be changed. A change creates the next version: export it "
    "(DEBUG=1 .venv/bin/python manage.py export_template {slug} --format yaml > t.yaml), edit it, and "
    "import it (DEBUG=1 .venv/bin/python manage.py import_template t.yaml), or use the API."
)


def _locked(obj: ChecklistTemplate | None) -> bool:
    return obj is not None and template_in_use(obj)


class TemplatePartInline(admin.TabularInline):
    """Sections and items of a version in use are shown, not edited."""

    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: ChecklistTemplate | None = None) -> bool:
        return not _locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: ChecklistTemplate | None = None) -> bool:
        return not _locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: ChecklistTemplate | None = None) -> bool:
        return not _locked(obj) and super().has_delete_permission(request, obj)


class TemplateSectionInline(TemplatePartInline):
    model = TemplateSection
    fields = ("order", "title")


class TemplateItemInline(TemplatePartInline):
    model = TemplateItem
    fields = (
        "section",
        "order",
        "key",
        "title",
        "category",
        "required",
        "approver_role",
        "required_signoffs",
        "evidence_required",
        "due_offset_days",
        "condition_flag",
        "guidance",
    )

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        if db_field.name == "section":
            # Only this template's sections (new sections can be picked once saved).
            object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = TemplateSection.objects.filter(template_id=object_id or None)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "version", "language", "items", "in_use", "is_builtin", "created_at")
    list_filter = ("language", "is_builtin", "slug")
    search_fields = ("name", "slug", "description")
    fields = ("slug", "version", "name", "description", "language", "is_builtin", "created_by", "created_at")
    inlines = (TemplateSectionInline, TemplateItemInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChecklistTemplate]:
        return templates_with_usage(super().get_queryset(request))

    @admin.display(description="items", ordering="item_count")
    def items(self, obj: ChecklistTemplate) -> int:
        return obj.item_count  # type: ignore[attr-defined]

    @admin.display(description="used by a release", boolean=True, ordering="in_use")
    def in_use(self, obj: ChecklistTemplate) -> bool:
        return obj.in_use  # type: ignore[attr-defined]

    def get_readonly_fields(self, request: HttpRequest, obj: ChecklistTemplate | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("is_builtin", "created_by", "created_at")
        return ("slug", "version", "is_builtin", "created_by", "created_at")

    def has_change_permission(self, request: HttpRequest, obj: ChecklistTemplate | None = None) -> bool:
        return not _locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: ChecklistTemplate | None = None) -> bool:
        return not _locked(obj) and super().has_delete_permission(request, obj)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        if _locked(obj) and request.method == "GET":
            assert obj is not None
            self.message_user(request, IN_USE_MESSAGE.format(slug=obj.slug), messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: ChecklistTemplate, form: ModelForm, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
