"""A release's checklist from templates: the snapshot of a template version, conditional
items following the release's flags, and due dates following its go-live."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from checklists.models import ChecklistTemplate, TemplateItem
from config.domain import Conflict, failure
from releases.audit import audit_record
from releases.models import AuditAction, Release, ReleaseTemplate
from releases.permissions import check_release
from releases.state import lock_release

from ..models import ChecklistItem
from .common import due_at, next_order
from .status import checklist_refresh


def item_from_template(release: Release, titem: TemplateItem, template: ChecklistTemplate, order: int) -> ChecklistItem:
    return ChecklistItem(
        release=release,
        template=template,
        source_slug=template.slug,
        source_key=titem.key,
        section=titem.section.title,
        order=order,
        title=titem.title,
        guidance=titem.guidance,
        category=titem.category,
        required=titem.required,
        approver_role=titem.approver_role,
        required_signoffs=titem.required_signoffs,
        evidence_required=titem.evidence_required,
        due_offset_days=titem.due_offset_days,
        condition_flag=titem.condition_flag,
        due_at=due_at(release, titem.due_offset_days),
    )


def template_items(template: ChecklistTemplate) -> list[TemplateItem]:
    return list(template.items.select_related("section", "approver_role").order_by("section__order", "order", "id"))


def untouched(item: ChecklistItem) -> bool:
    """Nobody has worked on, edited, assigned or signed it: safe to replace or remove."""
    return item.edited_at is None and not item.signoffs.exists()


def item_remove(
    item: ChecklistItem, *, actor: User, release: Release, before: dict[str, Any], after: dict[str, Any] | None
) -> None:
    audit_record(action=AuditAction.ITEM_REMOVED, actor=actor, target=item, release=release, before=before, after=after)
    item.delete()


def checklist_apply_template(*, release: Release, template: ChecklistTemplate, actor: User) -> list[ChecklistItem]:
    """Copy a template version into the release (a snapshot: later template edits never
    change it). Conditional items are copied only when the release has their flag."""
    check_release(actor, release, manage=True)
    with transaction.atomic():
        release = lock_release(release)
        if release.state not in (Release.State.DRAFT, Release.State.IN_PROGRESS):
            raise Conflict(
                _("Templates can be applied only while the release is a draft or in progress."),
                code="release_not_editable",
                failures=[
                    failure(
                        "release_not_editable",
                        _("The release is %(state)s.") % {"state": release.get_state_display().lower()},
                    )
                ],
            )
        if release.applied_templates.filter(slug=template.slug).exists():
            raise Conflict(
                f"The template {template.slug!r} is applied to this release already; upgrade it instead.",
                code="template_already_applied",
            )
        # Lock the version so an in-place edit of an unused version can't change it mid-copy.
        template = ChecklistTemplate.objects.select_for_update().get(pk=template.pk)
        ReleaseTemplate.objects.create(release=release, template=template, slug=template.slug)
        flags = set(release.flags)
        start = next_order(release)
        items = ChecklistItem.objects.bulk_create(
            item_from_template(release, titem, template, start + n)
            for n, titem in enumerate(template_items(template))
            if not titem.condition_flag or titem.condition_flag in flags
        )
        audit_record(
            action=AuditAction.RELEASE_TEMPLATE_APPLIED,
            actor=actor,
            target=release,
            release=release,
            after={"template": template.slug, "version": template.version, "items": len(items)},
        )
        checklist_refresh(release=release, items=items)
    return items


def checklist_sync_flags(*, release: Release, actor: User) -> dict[str, int]:
    """Inside the release update that changed its flags (release row locked): adds the
    conditional items whose flag is now set, and removes untouched ones whose flag was unset
    (worked or signed items are kept)."""
    flags = set(release.flags)
    added: list[ChecklistItem] = []
    order = next_order(release)
    for use in release.applied_templates.select_related("template"):
        present = set(release.items.filter(source_slug=use.slug).values_list("source_key", flat=True))
        for titem in template_items(use.template):
            if titem.condition_flag and titem.condition_flag in flags and titem.key not in present:
                item = item_from_template(release, titem, use.template, order + len(added))
                item.save()
                added.append(item)
                audit_record(
                    action=AuditAction.ITEM_CREATED,
                    actor=actor,
                    target=item,
                    release=release,
                    after={"title": item.title, "condition_flag": item.condition_flag},
                )
    removed = 0
    for item in release.items.exclude(condition_flag="").exclude(condition_flag__in=flags):
        if untouched(item):
            before = {"title": item.title, "condition_flag": item.condition_flag}
            item_remove(item, actor=actor, release=release, before=before, after=None)
            removed += 1
    checklist_refresh(release=release, items=added)
    return {"added": len(added), "removed": removed}


def items_recompute_due(*, release: Release) -> int:
    """Due dates of unfinished items follow the go-live date (inside the caller's transaction)."""
    items = list(release.items.exclude(state__in=ChecklistItem.FINISHED_STATES).exclude(due_offset_days=None))
    for item in items:
        item.due_at = due_at(release, item.due_offset_days)
    ChecklistItem.objects.bulk_update(items, ["due_at"])
    return len(items)
