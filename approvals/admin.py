"""Admin for checklist items, sign-offs and delegations.

An item changed here goes through item_update, so a change of status, evidence or text
makes earlier approvals stale exactly as in the app. Sign-offs are never edited or deleted
by anyone; delegations can only be cancelled.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet, URLField
from django.forms import ModelForm
from django.http import HttpRequest

from releases.admin import ReadOnlyAdminMixin, ReadOnlyInline, ServiceWritesMixin, acting_user, changed

from .models import ChecklistItem, Delegation, SignOff
from .services import AUDITED_FIELDS, delegation_cancel, item_update

ITEM_EDITABLE = AUDITED_FIELDS


class SignOffInline(ReadOnlyInline):
    model = SignOff
    fk_name = "item"
    fields = (
        "created_at",
        "decision",
        "approver",
        "signed_by",
        "role",
        "comment",
        "item_revision",
        "revoked_at",
        "revoked_reason",
    )
    readonly_fields = fields


@admin.register(ChecklistItem)
class ChecklistItemAdmin(ServiceWritesMixin, admin.ModelAdmin):
    list_display = (
        "title",
        "release",
        "state",
        "assignee",
        "approver_role",
        "required_signoffs",
        "required",
        "due_at",
        "revision",
    )
    list_filter = ("state", "required", "category", "approver_role", "release__project")
    search_fields = ("title", "source_key", "release__name", "release__version")
    list_select_related = ("release", "assignee", "approver_role")
    autocomplete_fields = ("assignee",)
    formfield_overrides = {URLField: {"assume_scheme": "https"}}
    inlines = (SignOffInline,)
    fieldsets = (
        (None, {"fields": ("release", "section", "title", "guidance", "category")}),
        (
            "Work",
            {
                "fields": (
                    "state",
                    "assignee",
                    "evidence_url",
                    "note",
                    "justification",
                    "blocked_reason",
                    "due_at",
                    "completed_by",
                    "completed_at",
                )
            },
        ),
        ("Sign-off", {"fields": ("required", "approver_role", "required_signoffs", "evidence_required")}),
        (
            "Source",
            {
                "fields": (
                    "template",
                    "source_slug",
                    "source_key",
                    "order",
                    "due_offset_days",
                    "condition_flag",
                    "is_adhoc",
                )
            },
        ),
        ("Record", {"fields": ("revision", "completion_seq", "created_at", "updated_at")}),
    )
    readonly_fields = (
        "release",
        "section",
        "completed_by",
        "completed_at",
        "template",
        "source_slug",
        "source_key",
        "order",
        "due_offset_days",
        "condition_flag",
        "is_adhoc",
        "revision",
        "completion_seq",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # ad-hoc items are added on the release, through the API

    def has_delete_permission(self, request: HttpRequest, obj: ChecklistItem | None = None) -> bool:
        return False  # its sign-offs and audit trail keep it

    def save_model(self, request: HttpRequest, obj: ChecklistItem, form: ModelForm, change: bool) -> None:
        fields = changed(form, ITEM_EDITABLE)
        if fields:
            item = ChecklistItem.objects.select_related("release").get(pk=obj.pk)
            item_update(item=item, actor=acting_user(request), **fields)


@admin.register(SignOff)
class SignOffAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "item", "release", "decision", "approver", "signed_by", "role", "revoked_at")
    list_filter = ("decision", "role", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("item__title", "approver__username", "signed_by__username", "comment")
    list_select_related = ("item__release", "approver", "signed_by", "role")
    date_hierarchy = "created_at"

    @admin.display(description="release", ordering="item__release")
    def release(self, obj: SignOff) -> Any:
        return obj.item.release


@admin.register(Delegation)
class DelegationAdmin(ServiceWritesMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("delegator", "delegate", "role", "starts_at", "ends_at", "cancelled_at")
    list_filter = ("role", ("cancelled_at", admin.EmptyFieldListFilter))
    search_fields = ("delegator__username", "delegate__username")
    list_select_related = ("delegator", "delegate", "role")
    actions = ("cancel",)

    @admin.action(description="Cancel the selected delegations", permissions=["view"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Delegation]) -> None:
        for delegation in queryset:
            delegation_cancel(delegation=delegation, actor=acting_user(request))
        self.message_user(request, f"Cancelled {len(queryset)} delegation(s).", messages.SUCCESS)
