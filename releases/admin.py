"""Admin for projects, releases, freeze windows and the audit trail.

Writes go through the services, as everywhere else, so the admin keeps every rule and
leaves its audit record: a refused change comes back as an error message. What has no
service (creating a release, changing its state, deleting history) is read-only here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.html import format_html

from config.domain import DomainError

from . import permissions
from .models import (
    AuditEvent,
    FreezeWindow,
    GoNoGoRecord,
    Phase,
    Project,
    ProjectMembership,
    Release,
    ReleaseTemplate,
)
from .services import (
    FREEZE_FIELDS,
    RELEASE_AUDITED,
    freeze_window_create,
    freeze_window_delete,
    freeze_window_update,
    project_create,
    project_member_add,
    project_member_remove,
    project_update,
    release_update,
)

WEEKDAYS = ["Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays"]


class ServiceWritesMixin:
    """For admins whose save_model / delete_model call services: a DomainError the service
    raises is shown as an error message (the change is rolled back) instead of a crash."""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        except DomainError as exc:
            return self._refused(request, exc)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)  # type: ignore[misc]
        except DomainError as exc:
            return self._refused(request, exc)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        try:
            return super().changelist_view(request, extra_context)  # type: ignore[misc]
        except DomainError as exc:  # from an admin action
            return self._refused(request, exc)

    def _refused(self, request: HttpRequest, exc: DomainError) -> HttpResponse:
        self.message_user(request, f"Not saved: {exc}", messages.ERROR)  # type: ignore[attr-defined]
        return HttpResponseRedirect(request.get_full_path())


def changed(form: ModelForm, fields: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """The form's changed values among `fields`, for a service's keyword arguments."""
    return {name: form.cleaned_data[name] for name in form.changed_data if name in fields}


def adopt(obj: Any, created: Any) -> None:
    """Make the admin's unsaved instance stand for the row a service created, so the admin
    can save inlines against it and redirect to it."""
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(created, field.attname))
    obj._state.adding = False
    obj._state.db = created._state.db


def acting_user(request: HttpRequest) -> User:
    """The administrator making the change (the admin lets only logged-in staff in)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


class ReadOnlyAdminMixin:
    """History: shown, never added, changed or deleted."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- projects ----------------------------------------------------------------------------


class ProjectMembershipInline(admin.TabularInline):
    model = ProjectMembership
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)
    extra = 0


@admin.register(Project)
class ProjectAdmin(ServiceWritesMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "member_count", "release_count", "created_at")
    search_fields = ("name", "slug", "description")
    fields = ("name", "slug", "description", "created_at")
    inlines = (ProjectMembershipInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Project]:
        return (
            super()
            .get_queryset(request)
            .annotate(members=Count("memberships", distinct=True), releases_count=Count("releases", distinct=True))
        )

    @admin.display(description="members", ordering="members")
    def member_count(self, obj: Project) -> int:
        return obj.members  # type: ignore[attr-defined]

    @admin.display(description="releases", ordering="releases_count")
    def release_count(self, obj: Project) -> int:
        return obj.releases_count  # type: ignore[attr-defined]

    def get_readonly_fields(self, request: HttpRequest, obj: Project | None = None) -> tuple[str, ...]:
        return ("slug", "created_at") if obj else ("created_at",)

    def get_prepopulated_fields(self, request: HttpRequest, obj: Project | None = None) -> dict[str, Sequence[str]]:
        return {} if obj else {"slug": ("name",)}

    def has_delete_permission(self, request: HttpRequest, obj: Project | None = None) -> bool:
        return False  # releases and their audit trail keep a project

    def save_model(self, request: HttpRequest, obj: Project, form: ModelForm, change: bool) -> None:
        if change:
            fields = changed(form, ("name", "description"))
            if fields:
                project_update(project=Project.objects.get(pk=obj.pk), actor=acting_user(request), **fields)
        else:
            data = form.cleaned_data
            adopt(
                obj,
                project_create(
                    actor=acting_user(request), name=data["name"], slug=data["slug"], description=data["description"]
                ),
            )

    def save_formset(self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool) -> None:
        if formset.model is not ProjectMembership:
            super().save_formset(request, form, formset, change)
            return
        project = form.instance
        User = get_user_model()
        before = {m.pk: m.user_id for m in ProjectMembership.objects.filter(project=project)}
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.deleted_forms:
            if row.instance.pk in before:
                old_user = User.objects.get(pk=before[row.instance.pk])
                project_member_remove(project=project, actor=acting_user(request), user=old_user)
                formset.deleted_objects.append(row.instance)
        for row in formset.forms:
            if row in formset.deleted_forms or not row.has_changed():
                continue
            user, role = row.cleaned_data["user"], row.cleaned_data["role"]
            if row.instance.pk in before and before[row.instance.pk] != user.pk:
                old_user = User.objects.get(pk=before[row.instance.pk])
                project_member_remove(project=project, actor=acting_user(request), user=old_user)
            membership = project_member_add(project=project, actor=acting_user(request), user=user, role=role)
            if row.instance.pk in before:
                formset.changed_objects.append((membership, row.changed_data))
            else:
                formset.new_objects.append(membership)


# --- releases ----------------------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PhaseInline(ReadOnlyInline):
    model = Phase
    fields = ("order", "name", "production", "state", "started_at", "finished_at")
    readonly_fields = fields


class ReleaseTemplateInline(ReadOnlyInline):
    model = ReleaseTemplate
    fields = ("template", "slug", "applied_at")
    readonly_fields = fields
    verbose_name = "template applied"
    verbose_name_plural = "templates applied (upgrade them through the API)"


# What the admin may change on a release: each goes through release_update, so moving the
# go-live recomputes due dates (and reopens an approved release), flags add their items.
RELEASE_EDITABLE = RELEASE_AUDITED


@admin.register(Release)
class ReleaseAdmin(ServiceWritesMixin, admin.ModelAdmin):
    list_display = ("name", "version", "project", "state", "go_live_at", "readiness_percent")
    list_filter = ("state", "project")
    search_fields = ("name", "version", "git_ref", "project__name")
    date_hierarchy = "go_live_at"
    list_select_related = ("project",)
    inlines = (ReleaseTemplateInline, PhaseInline)
    fieldsets = (
        (None, {"fields": ("project", "name", "version", "description", "git_ref")}),
        ("Schedule", {"fields": ("go_live_at", "window_end_at")}),
        ("Go/no-go", {"fields": ("rollback_plan", "flags", "allow_self_signoff")}),
        ("People", {"fields": ("managers", "stakeholders", "stakeholder_emails")}),
        (
            "State (changed only by transitions, through the API)",
            {
                "fields": (
                    "state",
                    "state_changed_at",
                    "state_reason",
                    "approved_at",
                    "approved_by",
                    "freeze_override_reason",
                    "went_live_at",
                    "completed_at",
                )
            },
        ),
        ("Record", {"fields": ("created_by", "created_at", "updated_at")}),
    )
    readonly_fields = (
        "project",
        "managers",
        "stakeholders",
        "state",
        "state_changed_at",
        "state_reason",
        "approved_at",
        "approved_by",
        "freeze_override_reason",
        "went_live_at",
        "completed_at",
        "created_by",
        "created_at",
        "updated_at",
    )

    @admin.display(description="readiness", ordering="readiness")
    def readiness_percent(self, obj: Release) -> str:
        return f"{obj.readiness}%"

    @admin.display(description="release managers")
    def managers(self, obj: Release) -> str:
        return ", ".join(u.get_username() for u in permissions.release_managers(obj))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created through the API, where the creator becomes its manager

    def has_delete_permission(self, request: HttpRequest, obj: Release | None = None) -> bool:
        return False  # the audit trail keeps it; cancel it instead

    def save_model(self, request: HttpRequest, obj: Release, form: ModelForm, change: bool) -> None:
        fields = changed(form, RELEASE_EDITABLE)
        if fields:
            release_update(release=Release.objects.get(pk=obj.pk), actor=acting_user(request), **fields)


# --- freeze windows ----------------------------------------------------------------------

FREEZE_EDITABLE = FREEZE_FIELDS


@admin.register(FreezeWindow)
class FreezeWindowAdmin(ServiceWritesMixin, admin.ModelAdmin):
    list_display = ("name", "scope", "when", "timezone")
    list_filter = ("project",)
    search_fields = ("name", "reason")
    list_select_related = ("project",)
    fieldsets = (
        (None, {"fields": ("name", "project", "reason", "timezone")}),
        ("One-off", {"fields": ("starts_at", "ends_at")}),
        ("Weekly (an end not after the start runs over midnight)", {"fields": ("weekday", "start_time", "end_time")}),
    )

    @admin.display(description="applies to", ordering="project__name")
    def scope(self, obj: FreezeWindow) -> str:
        return obj.project.name if obj.project else "all projects"

    @admin.display(description="when")
    def when(self, obj: FreezeWindow) -> str:
        if obj.is_weekly:
            assert obj.weekday is not None
            assert obj.start_time
            assert obj.end_time
            return f"{WEEKDAYS[obj.weekday]} {obj.start_time:%H:%M} to {obj.end_time:%H:%M}"
        return f"{obj.starts_at:%Y-%m-%d %H:%M} to {obj.ends_at:%Y-%m-%d %H:%M}"

    def save_model(self, request: HttpRequest, obj: FreezeWindow, form: ModelForm, change: bool) -> None:
        if change:
            fields = changed(form, FREEZE_EDITABLE)
            if fields:
                freeze_window_update(window=FreezeWindow.objects.get(pk=obj.pk), actor=acting_user(request), **fields)
            return
        data: dict[str, Any] = {name: form.cleaned_data.get(name) for name in FREEZE_EDITABLE}
        data["timezone_name"] = data.pop("timezone")
        adopt(obj, freeze_window_create(actor=acting_user(request), **data))

    def delete_model(self, request: HttpRequest, obj: FreezeWindow) -> None:
        freeze_window_delete(window=obj, actor=acting_user(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[FreezeWindow]) -> None:
        for window in queryset:
            freeze_window_delete(window=window, actor=acting_user(request))


# --- audit trail -------------------------------------------------------------------------


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "actor_name", "action", "target_repr", "release")
    list_filter = ("action",)
    search_fields = ("action", "actor_name", "target_repr")
    date_hierarchy = "created_at"
    list_select_related = ("release",)
    show_full_result_count = False  # the trail only grows; skip the second count
    fields = (
        "created_at",
        "actor",
        "actor_name",
        "action",
        "release",
        "target_type",
        "target_id",
        "target_repr",
        "before_json",
        "after_json",
    )
    readonly_fields = fields

    @admin.display(description="before")
    def before_json(self, obj: AuditEvent) -> str:
        return _pretty(obj.before)

    @admin.display(description="after")
    def after_json(self, obj: AuditEvent) -> str:
        return _pretty(obj.after)


@admin.register(GoNoGoRecord)
class GoNoGoRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("decided_at", "release", "decided_by_name", "readiness")
    list_select_related = ("release",)
    fields = ("release", "decided_by", "decided_by_name", "decided_at", "readiness", "required_ready",
              "required_total", "reason", "snapshot_json")  # fmt: skip
    readonly_fields = fields

    @admin.display(description="snapshot")
    def snapshot_json(self, obj: GoNoGoRecord) -> str:
        return _pretty(obj.snapshot)


def _pretty(value: Any) -> str:
    if value is None:
        return "—"
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))
