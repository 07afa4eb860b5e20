"""Every write to a release's checklist: items from templates (snapshot, conditional items,
upgrade to a newer template version), ad-hoc items, item updates, sign-offs, delegations.

Locking: a write to an item locks the release row first, then the item row, so that item
writes, sign-offs and the release's go/no-go never interleave (and never deadlock).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from checklists.models import ROLE_NEEDS_SIGNOFFS, SIGNOFFS_NEED_ROLE, Category, ChecklistTemplate, TemplateItem
from config.domain import UNSET, Conflict, Forbidden, Invalid, NotFound, clean_text, failure
from releases import permissions
from releases.audit import audit_record, snapshot
from releases.models import AuditEvent, Release, ReleaseTemplate
from releases.state import release_set_state

from .models import ChecklistItem, Delegation, SignOff
from .selectors import active_delegation, items_with_status, required_items_not_ready

State = ChecklistItem.State
CLOSED_RELEASE_STATES = (Release.State.COMPLETED, Release.State.CANCELLED, Release.State.ROLLED_BACK)
# Changing any of these makes earlier approvals stale.
SUBSTANTIVE_FIELDS = (
    "state",
    "evidence_url",
    "title",
    "guidance",
    "justification",
    "approver_role",
    "required_signoffs",
)
# What made an item ready at the go/no-go; once the release is live, a ready item keeps it
# (its approvals can't be revoked then either, nor made stale).
LIVE_FROZEN_FIELDS = (*SUBSTANTIVE_FIELDS, "assignee", "required")
CONTRIBUTOR_FIELDS = {"state", "evidence_url", "note", "justification", "blocked_reason"}
AUDITED_FIELDS = (
    "title",
    "guidance",
    "category",
    "required",
    "approver_role",
    "required_signoffs",
    "evidence_required",
    "state",
    "assignee",
    "evidence_url",
    "note",
    "justification",
    "blocked_reason",
    "due_at",
)


# --- shared checks -----------------------------------------------------------------------


def release_require_view(*, actor: Any, release: Release) -> None:
    if not permissions.can_view_release(actor, release):
        raise NotFound("Release not found.", code="not_found")


def release_require_manage(*, actor: Any, release: Release) -> None:
    release_require_view(actor=actor, release=release)
    if not permissions.can_manage_release(actor, release):
        raise Forbidden("Only the release's managers can do this.", code="not_release_manager")


def release_require_open(release: Release) -> None:
    if release.state in CLOSED_RELEASE_STATES:
        raise Conflict(
            f"The release is {release.get_state_display().lower()}; its checklist can't change.",
            code="release_closed",
            failures=[failure("release_closed", f"Release state is {release.state}.")],
        )


def _lock_item(item: ChecklistItem) -> tuple[Release, ChecklistItem]:
    release = Release.objects.select_for_update().get(pk=item.release_id)
    locked = ChecklistItem.objects.select_for_update().filter(pk=item.pk).first()
    if locked is None:  # removed (flag unset, template upgrade) while we waited for the lock
        raise NotFound("Item not found.", code="not_found")
    return release, locked


def _due_at(release: Release, offset: int | None) -> dt.datetime | None:
    if release.go_live_at is None or offset is None:
        return None
    return release.go_live_at + dt.timedelta(days=offset)


def _holds_role(user: Any, role: Group) -> bool:
    return bool(user.is_active and user.groups.filter(pk=role.pk).exists())


# --- items from templates ----------------------------------------------------------------


def _item_from_template(
    release: Release, titem: TemplateItem, template: ChecklistTemplate, order: int
) -> ChecklistItem:
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
        due_at=_due_at(release, titem.due_offset_days),
    )


def _template_items(template: ChecklistTemplate) -> list[TemplateItem]:
    return list(template.items.select_related("section", "approver_role").order_by("section__order", "order", "id"))


def _next_order(release: Release) -> int:
    return (release.items.aggregate(m=Max("order"))["m"] or 0) + 1


def checklist_apply_template(*, release: Release, template: ChecklistTemplate, actor: Any) -> list[ChecklistItem]:
    """Copy a template version into the release (a snapshot: later template edits never
    change it). Conditional items are copied only when the release has their flag."""
    release_require_manage(actor=actor, release=release)
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release.pk)
        if release.state not in (Release.State.DRAFT, Release.State.IN_PROGRESS):
            raise Conflict(
                "Templates can be applied only while the release is a draft or in progress.",
                code="release_not_editable",
                failures=[failure("release_not_editable", f"Release state is {release.state}.")],
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
        start = _next_order(release)
        items = [
            _item_from_template(release, titem, template, start + n)
            for n, titem in enumerate(_template_items(template))
            if not titem.condition_flag or titem.condition_flag in flags
        ]
        ChecklistItem.objects.bulk_create(items)
        audit_record(
            action="release.template_applied",
            actor=actor,
            target=release,
            release=release,
            after={"template": template.slug, "version": template.version, "items": len(items)},
        )
    return items


def _untouched(item: ChecklistItem) -> bool:
    """Nobody has worked on, edited, assigned or signed it: safe to replace or remove."""
    return (
        item.state == State.OPEN
        and item.revision == 1
        and item.assignee_id is None
        and not item.evidence_url
        and not item.note
        and not item.signoffs.exists()
        and not AuditEvent.objects.filter(
            target_type=ChecklistItem._meta.label_lower,
            target_id=item.pk,
            action__in=("item.updated", "item.assigned", "item.state_changed"),
        ).exists()
    )


def checklist_sync_flags(*, release: Release, actor: Any) -> dict[str, int]:
    """Called inside the release update that changed its flags: adds the conditional items
    whose flag is now set, and removes untouched ones whose flag was unset (worked or
    signed items are kept)."""
    flags = set(release.flags)
    added, removed = 0, 0
    order = _next_order(release)
    for use in release.applied_templates.select_related("template"):
        present = set(release.items.filter(source_slug=use.slug).values_list("source_key", flat=True))
        for titem in _template_items(use.template):
            if titem.condition_flag and titem.condition_flag in flags and titem.key not in present:
                item = _item_from_template(release, titem, use.template, order)
                item.save()
                order += 1
                added += 1
                audit_record(
                    action="item.created",
                    actor=actor,
                    target=item,
                    release=release,
                    after={"title": item.title, "condition_flag": item.condition_flag},
                )
    for item in release.items.exclude(condition_flag="").exclude(condition_flag__in=flags):
        if _untouched(item):
            audit_record(
                action="item.removed",
                actor=actor,
                target=item,
                release=release,
                before={"title": item.title, "condition_flag": item.condition_flag},
            )
            item.delete()
            removed += 1
    return {"added": added, "removed": removed}


TEMPLATE_COPIED_FIELDS = (
    "title",
    "guidance",
    "category",
    "required",
    "approver_role_id",
    "required_signoffs",
    "evidence_required",
    "due_offset_days",
    "condition_flag",
)


def release_template_upgrade(*, release: Release, slug: str, actor: Any) -> dict[str, Any]:
    """Opt in to the newest version of an applied template: new items are added, changed
    items are updated only where nothing was done or signed yet, items the new version
    dropped are removed only when untouched. Completed or signed items are never removed."""
    release_require_manage(actor=actor, release=release)
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release.pk)
        release_require_open(release)
        if release.state == Release.State.LIVE:
            raise Conflict("A live release's checklist can't be upgraded.", code="release_live")
        use = release.applied_templates.select_related("template").filter(slug=slug).first()
        if use is None:
            raise Invalid.field(
                "template", f"The template {slug!r} is not applied to this release.", code="template_not_applied"
            )
        newest = ChecklistTemplate.objects.select_for_update().filter(slug=slug).order_by("-version").first()
        assert newest is not None
        if newest.version <= use.template.version:
            raise Conflict(
                f"The release already uses the newest version (v{use.template.version}) of {slug!r}.",
                code="already_newest",
            )
        flags = set(release.flags)
        current = {i.source_key: i for i in release.items.filter(source_slug=slug).select_related("approver_role")}
        new_items = {t.key: t for t in _template_items(newest)}
        added: list[str] = []
        updated: list[str] = []
        kept: list[str] = []
        removed: list[str] = []
        order = _next_order(release)
        why = {"template": slug, "version": newest.version}

        def remove_if_untouched(item: ChecklistItem) -> None:
            if _untouched(item):
                removed.append(item.title)
                audit_record(
                    action="item.removed",
                    actor=actor,
                    target=item,
                    release=release,
                    before={"title": item.title},
                    after=why,
                )
                item.delete()
            else:
                kept.append(item.title)

        for key, titem in new_items.items():
            item = current.get(key)
            if titem.condition_flag and titem.condition_flag not in flags:
                # The new version makes it conditional on a flag this release lacks.
                if item is not None:
                    remove_if_untouched(item)
                continue
            if item is None:
                item = _item_from_template(release, titem, newest, order)
                item.save()
                order += 1
                added.append(item.title)
                audit_record(
                    action="item.created", actor=actor, target=item, release=release, after={"title": item.title, **why}
                )
                continue
            fresh = _item_from_template(release, titem, newest, item.order)
            changed = [f for f in TEMPLATE_COPIED_FIELDS if getattr(item, f) != getattr(fresh, f)]
            if changed and _untouched(item):
                before = snapshot(item, AUDITED_FIELDS)
                for f in changed:
                    setattr(item, f, getattr(fresh, f))
                item.section = fresh.section
                item.due_at = fresh.due_at
                item.template = newest
                item.save()
                updated.append(item.title)
                after = snapshot(item, AUDITED_FIELDS)
                diff = [f for f in AUDITED_FIELDS if before[f] != after[f]]
                audit_record(
                    action="item.updated",
                    actor=actor,
                    target=item,
                    release=release,
                    before={f: before[f] for f in diff},
                    after={**{f: after[f] for f in diff}, **why},
                )
            else:
                if changed:
                    kept.append(item.title)
                item.template = newest
                item.section = fresh.section
                item.save(update_fields=["template", "section"])
        for key, item in current.items():
            if key not in new_items:
                remove_if_untouched(item)
        old_version = use.template.version
        use.template = newest
        use.save(update_fields=["template"])
        summary = {
            "template": slug,
            "from_version": old_version,
            "to_version": newest.version,
            "added": added,
            "updated": updated,
            "kept": kept,
            "removed": removed,
        }
        audit_record(
            action="release.template_upgraded",
            actor=actor,
            target=release,
            release=release,
            before={"version": old_version},
            after=summary,
        )
        release_reopen_if_not_ready(release=release, actor=actor, why=f"Template {slug!r} upgraded")
    return summary


def items_recompute_due(*, release: Release) -> int:
    """Due dates of unfinished items follow the go-live date (inside the caller's transaction)."""
    items = list(release.items.exclude(state__in=ChecklistItem.FINISHED_STATES).exclude(due_offset_days=None))
    for item in items:
        item.due_at = _due_at(release, item.due_offset_days)
    ChecklistItem.objects.bulk_update(items, ["due_at"])
    return len(items)


# --- item writes -------------------------------------------------------------------------


def _clean_item_fields(release: Release, changes: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "title":
            out[name] = clean_text(name, value, max_length=300, required=True)
        elif name in ("guidance", "note", "justification", "blocked_reason"):
            out[name] = clean_text(name, value or "", max_length=10000)
        elif name == "category":
            if value not in Category.values:
                raise Invalid.field(name, f"Unknown category {value!r}.")
            out[name] = value
        elif name in ("required", "evidence_required"):
            if not isinstance(value, bool):
                raise Invalid.field(name, "Must be true or false.")
            out[name] = value
        elif name == "required_signoffs":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 20:
                raise Invalid.field(name, "A whole number from 0 to 20.")
            out[name] = value
        elif name == "approver_role":
            if value is not None and not isinstance(value, Group):
                raise Invalid.field(name, "Unknown approver role.")
            out[name] = value
        elif name == "state":
            if value not in State.values:
                raise Invalid.field(name, f"Unknown state {value!r}; one of: {', '.join(State.values)}.")
            out[name] = value
        elif name == "evidence_url":
            value = clean_text(name, value or "", max_length=1000)
            if value:
                try:
                    URLValidator(schemes=["http", "https"])(value)
                except ValidationError:
                    raise Invalid.field(name, "Enter a valid http(s) URL.") from None
            out[name] = value
        elif name == "due_at":
            if value is not None and (not isinstance(value, dt.datetime) or timezone.is_naive(value)):
                raise Invalid.field(name, "A date and time with a time zone.")
            out[name] = value
        elif name == "assignee":
            if value is not None and not permissions.can_view_release(value, release):
                raise Invalid.field(
                    name,
                    "This user can't see the release; add them to the project or as a stakeholder first.",
                    code="assignee_cannot_view",
                )
            out[name] = value
        else:
            raise Invalid.field(name, "Unknown field.")
    return out


def _mark_stale(*, item: ChecklistItem, old_revision: int, actor: Any, release: Release) -> None:
    stale = item.signoffs.filter(
        decision=SignOff.Decision.APPROVE, revoked_at__isnull=True, item_revision=old_revision
    ).select_related("approver")
    for signoff in stale:
        audit_record(
            action="signoff.stale",
            actor=actor,
            target=signoff,
            release=release,
            after={"item": item.pk, "approver": signoff.approver.get_username(), "revision": item.revision},
        )


def release_reopen_if_not_ready(*, release: Release, actor: Any, why: str) -> None:
    """An approved release that no longer meets its go/no-go conditions (a required item not
    done and signed, no rollback plan) goes back to in_progress. Inside the caller's
    transaction, with the release row locked."""
    if release.state != Release.State.APPROVED:
        return
    if release.rollback_plan.strip() and not required_items_not_ready(release.pk).exists():
        return
    release_set_state(release, actor=actor, to=Release.State.IN_PROGRESS, reason=why)


def item_update(*, item: ChecklistItem, actor: Any, **changes: Any) -> ChecklistItem:
    """Change an item. Release managers may change anything; the assignee may change its
    status, evidence, note, justification and blocked reason. A change of status, evidence
    or text makes earlier approvals stale."""
    changes = {k: v for k, v in changes.items() if v is not UNSET}
    release = item.release
    release_require_view(actor=actor, release=release)
    is_manager = permissions.can_manage_release(actor, release)
    if not is_manager:
        if item.assignee_id != getattr(actor, "pk", None):
            raise Forbidden("Only the item's assignee and the release managers can change it.", code="not_assignee")
        outside = sorted(set(changes) - CONTRIBUTOR_FIELDS)
        if outside:
            raise Forbidden(f"Only release managers can change {', '.join(outside)}.", code="not_release_manager")
    release_require_open(release)
    clean = _clean_item_fields(release, changes)
    with transaction.atomic():
        release, item = _lock_item(item)
        release_require_open(release)
        if not is_manager and item.assignee_id != actor.pk:  # reassigned since the caller read it
            raise Forbidden("Only the item's assignee and the release managers can change it.", code="not_assignee")
        before = snapshot(item, AUDITED_FIELDS)
        for name, value in clean.items():
            setattr(item, name, value)
        _check_signoff_rule(has_role=item.approver_role_id is not None, required_signoffs=item.required_signoffs)
        state_changed = item.state != before["state"]
        if state_changed:
            _enter_state(item, actor)
        _check_state_requirements(item)
        after = snapshot(item, AUDITED_FIELDS)
        changed = [f for f in AUDITED_FIELDS if before[f] != after[f]]
        if not changed:
            return item
        frozen = [f for f in changed if f in LIVE_FROZEN_FIELDS]
        if release.state == Release.State.LIVE and frozen and _is_ready(item):
            raise _signed_off_live(item, f"Can't change {', '.join(frozen)}.")
        old_revision = item.revision
        if any(f in changed for f in SUBSTANTIVE_FIELDS):
            item.revision += 1
        item.save()
        if item.revision != old_revision:
            _mark_stale(item=item, old_revision=old_revision, actor=actor, release=release)
        if "assignee" in changed:
            audit_record(
                action="item.assigned",
                actor=actor,
                target=item,
                release=release,
                before={"assignee": before["assignee"]},
                after={"assignee": after["assignee"]},
            )
        if state_changed:
            audit_record(
                action="item.state_changed",
                actor=actor,
                target=item,
                release=release,
                before={"state": before["state"]},
                after={
                    "state": item.state,
                    "justification": item.justification,
                    "blocked_reason": item.blocked_reason,
                    "evidence_url": item.evidence_url,
                },
            )
        rest = [f for f in changed if f not in ("assignee", "state")]
        if rest:
            audit_record(
                action="item.updated",
                actor=actor,
                target=item,
                release=release,
                before={f: before[f] for f in rest},
                after={f: after[f] for f in rest},
            )
        release_reopen_if_not_ready(release=release, actor=actor, why=f"Item changed: {item.title}")
    return item


def _signed_off_live(item: ChecklistItem, what: str) -> Conflict:
    return Conflict(
        "The release is live and this item was done and signed off for it: it stays as approved. "
        "Record follow-up work in its note or as a new item.",
        code="item_signed_off_live",
        failures=[failure("item_signed_off_live", what, item=item.pk)],
    )


def _is_ready(item: ChecklistItem) -> bool:
    """Done (or justified not applicable) and signed, as stored now."""
    stored: Any = item_status(item)  # an annotated row
    return bool(stored.is_ready)


def _check_signoff_rule(*, has_role: bool, required_signoffs: int) -> None:
    """An item either needs sign-offs from a role or nobody signs it: a role with a quorum
    of 0 would count as signed with no sign-off at all."""
    if required_signoffs > 0 and not has_role:
        raise Invalid.field("approver_role", SIGNOFFS_NEED_ROLE)
    if required_signoffs == 0 and has_role:
        raise Invalid.field("required_signoffs", ROLE_NEEDS_SIGNOFFS)


def _enter_state(item: ChecklistItem, actor: Any) -> None:
    """Bookkeeping for the item's new state (already set on `item`)."""
    if item.state in ChecklistItem.FINISHED_STATES:
        item.completed_by = actor
        item.completed_at = timezone.now()
        item.completion_seq += 1
    else:
        item.completed_by = None
        item.completed_at = None


def _check_state_requirements(item: ChecklistItem) -> None:
    """What the item's state needs, checked after every change (not only on entering it):
    evidence for a done item that requires it, a justification when not applicable, a reason
    when blocked."""
    if item.state != State.BLOCKED:
        item.blocked_reason = ""
    if item.state == State.DONE and item.evidence_required and not item.evidence_url:
        raise Invalid.field(
            "evidence_url", "This item needs evidence (a link) while it is done.", code="evidence_required"
        )
    if item.state == State.NOT_APPLICABLE and not item.justification:
        raise Invalid.field("justification", "Say why the item does not apply.", code="justification_required")
    if item.state == State.BLOCKED and not item.blocked_reason:
        raise Invalid.field("blocked_reason", "Say what blocks the item.", code="blocked_reason_required")


def item_create(
    *,
    release: Release,
    actor: Any,
    title: str,
    category: str = Category.OTHER,
    guidance: str = "",
    required: bool = True,
    approver_role: Group | None = None,
    required_signoffs: int | None = None,
    evidence_required: bool = False,
    due_at: dt.datetime | None = None,
    assignee: Any = None,
    section: str = "",
) -> ChecklistItem:
    """An ad-hoc item, added by a release manager."""
    release_require_manage(actor=actor, release=release)
    release_require_open(release)
    if required_signoffs is None:
        required_signoffs = 1 if approver_role is not None else 0
    clean = _clean_item_fields(
        release,
        {
            "title": title,
            "category": category,
            "guidance": guidance,
            "required": required,
            "approver_role": approver_role,
            "required_signoffs": required_signoffs,
            "evidence_required": evidence_required,
            "due_at": due_at,
            "assignee": assignee,
        },
    )
    _check_signoff_rule(has_role=clean["approver_role"] is not None, required_signoffs=clean["required_signoffs"])
    section = clean_text("section", section or "", max_length=200) or "Additional items"
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release.pk)
        release_require_open(release)
        item = ChecklistItem.objects.create(
            release=release, is_adhoc=True, section=section, order=_next_order(release), **clean
        )
        audit_record(
            action="item.created", actor=actor, target=item, release=release, after=snapshot(item, AUDITED_FIELDS)
        )
        if assignee is not None:
            audit_record(
                action="item.assigned", actor=actor, target=item, release=release, after={"assignee": assignee.pk}
            )
        release_reopen_if_not_ready(release=release, actor=actor, why=f"Item added: {item.title}")
    return item


# --- sign-offs ---------------------------------------------------------------------------


def signoff_grant(
    *, item: ChecklistItem, actor: Any, decision: str, comment: str = "", on_behalf_of: Any = None
) -> SignOff:
    """Approve or reject an item, as a holder of its approver role (or as the delegate of
    one). Refused: without the role (403), when separation of duties forbids it (403), when
    the person already has a standing sign-off on this version of the item (409)."""
    release = item.release
    release_require_view(actor=actor, release=release)
    if decision not in SignOff.Decision.values:
        raise Invalid.field("decision", "Either 'approve' or 'reject'.")
    comment = clean_text("comment", comment or "", max_length=10000)
    if decision == SignOff.Decision.REJECT and not comment:
        raise Invalid.field("comment", "Say why you reject the item.", code="comment_required")
    with transaction.atomic():
        release, item = _lock_item(item)
        release_require_open(release)
        if not item.needs_signoff:
            raise Conflict("This item needs no sign-off.", code="signoff_not_needed")
        role = item.approver_role
        assert role is not None
        approver, delegation = actor, None
        if on_behalf_of is not None and on_behalf_of != actor:
            delegation = active_delegation(delegator=on_behalf_of, delegate=actor, role=role)
            if delegation is None:
                raise Forbidden(
                    f"{on_behalf_of.get_username()} has no delegation to you for {role.name} now.",
                    code="no_delegation",
                )
            if not _holds_role(on_behalf_of, role) or not permissions.can_view_release(on_behalf_of, release):
                raise Forbidden(
                    f"{on_behalf_of.get_username()} can't sign this item off themselves.", code="delegator_not_approver"
                )
            approver = on_behalf_of
        if not _holds_role(actor, role):
            raise Forbidden(f"Signing off this item needs the {role.name} role.", code="missing_role")
        if item.state not in ChecklistItem.FINISHED_STATES:
            raise Conflict(
                "The item can be signed off once it is done or not applicable.",
                code="item_not_finished",
                failures=[failure("item_not_finished", f"Item state is {item.state}.", item=item.pk)],
            )
        if decision == SignOff.Decision.REJECT and release.state == Release.State.LIVE and _is_ready(item):
            raise _signed_off_live(item, "Can't reject it: a rejection would send it back.")
        involved = {item.assignee_id, item.completed_by_id} - {None}
        if not release.allow_self_signoff and ({actor.pk, approver.pk} & involved):
            who = actor if actor.pk in involved else approver
            name = "you" if who == actor else who.get_username()
            why = f"{name} {'are' if who == actor else 'is'} the item's assignee"
            if who.pk != item.assignee_id:
                why = f"{name} marked the item done"
            raise Forbidden(
                f"Separation of duties: {why}, so {'you' if who == actor else 'they'} can't sign it off. "
                f"Another holder of the {role.name} role "
                "must, or a release manager can relax the rule for this release.",
                code="separation_of_duties",
            )
        standing = item.signoffs.filter(revoked_at__isnull=True, item_revision=item.revision)
        existing = standing.filter(Q(approver=approver) | Q(signed_by=actor)).select_related("approver", "signed_by")
        if (earlier := existing.first()) is not None:
            raise _already_signed(item, earlier=earlier, actor=actor)
        try:
            with transaction.atomic():
                signoff = SignOff.objects.create(
                    item=item,
                    approver=approver,
                    signed_by=actor,
                    delegation=delegation,
                    role=role,
                    decision=decision,
                    comment=comment,
                    item_revision=item.revision,
                    completion_seq=item.completion_seq,
                    self_signoff_relaxed=bool(release.allow_self_signoff and ({actor.pk, approver.pk} & involved)),
                )
        except IntegrityError:
            raise _already_signed(item) from None
        audit_record(
            action="signoff.approved" if decision == SignOff.Decision.APPROVE else "signoff.rejected",
            actor=actor,
            target=signoff,
            release=release,
            after={
                "item": item.pk,
                "approver": approver.get_username(),
                "signed_by": actor.get_username(),
                "role": role.name,
                "decision": decision,
                "comment": comment,
                "on_behalf_of": approver.get_username() if delegation else None,
                "self_signoff_relaxed": signoff.self_signoff_relaxed,
            },
        )
        if decision == SignOff.Decision.REJECT:
            # A rejection sends the item back for rework; it stands until the item is done again.
            old_state, old_revision = item.state, item.revision
            item.state = State.IN_PROGRESS
            item.completed_by = None
            item.completed_at = None
            item.revision += 1
            item.save()
            _mark_stale(item=item, old_revision=old_revision, actor=actor, release=release)
            audit_record(
                action="item.state_changed",
                actor=actor,
                target=item,
                release=release,
                before={"state": old_state},
                after={"state": item.state, "rejected_by": approver.get_username()},
            )
            release_reopen_if_not_ready(release=release, actor=actor, why=f"Sign-off rejected: {item.title}")
    return signoff


def _already_signed(item: ChecklistItem, *, earlier: SignOff | None = None, actor: Any = None) -> Conflict:
    """One person's sign-off counts once per version of the item, whether they signed as
    themselves or as someone's delegate; say which sign-off stands in the way."""
    message = "You have signed off this version of the item already; revoke it first to sign again."
    if earlier is not None and earlier.approver_id != earlier.signed_by_id:
        delegate, principal = earlier.signed_by.get_username(), earlier.approver.get_username()
        if earlier.signed_by_id == actor.pk:
            message = (
                f"You have signed off this version of the item already, on {principal}'s behalf; "
                "one person's sign-off counts once. Revoke it first to sign again."
            )
        elif earlier.approver_id == actor.pk:
            message = f"{delegate} has signed off this version of the item on your behalf already; it counts as yours."
        else:
            message = f"{principal} has signed off this version of the item already ({delegate} on their behalf)."
    elif earlier is not None and earlier.approver_id != actor.pk:
        message = f"{earlier.approver.get_username()} has signed off this version of the item already."
    failures = [failure("already_signed", message, item=item.pk, signoff=earlier.pk if earlier else None)]
    return Conflict(message, code="already_signed", failures=failures)


def signoff_revoke(*, signoff: SignOff, actor: Any, reason: str) -> SignOff:
    """An approver withdraws their own sign-off, with a reason, while the release is not live."""
    release_require_view(actor=actor, release=signoff.item.release)
    if actor.pk not in (signoff.approver_id, signoff.signed_by_id):
        raise Forbidden("Only the approver can revoke their sign-off.", code="not_signoff_owner")
    reason = clean_text("reason", reason or "", max_length=10000, required=True)
    with transaction.atomic():
        release, item = _lock_item(signoff.item)
        signoff = SignOff.objects.select_for_update().get(pk=signoff.pk)
        if release.state in (Release.State.LIVE, *CLOSED_RELEASE_STATES):
            raise Conflict("Sign-offs can't be revoked once the release is live.", code="release_live")
        if signoff.revoked_at is not None:
            raise Conflict("This sign-off is revoked already.", code="already_revoked")
        signoff.revoked_at = timezone.now()
        signoff.revoked_reason = reason
        signoff.save(update_fields=["revoked_at", "revoked_reason"])
        audit_record(
            action="signoff.revoked",
            actor=actor,
            target=signoff,
            release=release,
            before={"revoked": False},
            after={"revoked": True, "reason": reason, "item": item.pk},
        )
        release_reopen_if_not_ready(release=release, actor=actor, why=f"Sign-off revoked: {item.title}")
    return signoff


# --- delegations -------------------------------------------------------------------------


def delegation_create(
    *, actor: Any, delegate: Any, role: Group, starts_at: dt.datetime, ends_at: dt.datetime
) -> Delegation:
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(value, dt.datetime) or timezone.is_naive(value):
            raise Invalid.field(name, "A date and time with a time zone.")
    if ends_at <= starts_at:
        raise Invalid.field("ends_at", "The end must be after the start.")
    if ends_at <= timezone.now():
        raise Invalid.field("ends_at", "The delegation would already be over.")
    if delegate == actor:
        raise Invalid.field("delegate", "You can't delegate to yourself.")
    if not _holds_role(actor, role):
        raise Forbidden(f"You don't hold the {role.name} role.", code="missing_role")
    if not _holds_role(delegate, role):
        raise Invalid.field(
            "delegate", f"The delegate must hold the {role.name} role too.", code="delegate_missing_role"
        )
    with transaction.atomic():
        delegation = Delegation.objects.create(
            delegator=actor, delegate=delegate, role=role, starts_at=starts_at, ends_at=ends_at
        )
        audit_record(
            action="delegation.created",
            actor=actor,
            target=delegation,
            after={"delegate": delegate.get_username(), "role": role.name, "starts_at": starts_at, "ends_at": ends_at},
        )
    return delegation


def delegation_cancel(*, delegation: Delegation, actor: Any) -> Delegation:
    if actor.pk == delegation.delegate_id and not actor.is_staff:
        raise Forbidden("Only the approver who named you can cancel the delegation.", code="not_delegator")
    if actor.pk != delegation.delegator_id and not actor.is_staff:
        raise NotFound("Delegation not found.", code="not_found")
    with transaction.atomic():
        delegation = Delegation.objects.select_for_update().get(pk=delegation.pk)
        if delegation.cancelled_at is None:
            delegation.cancelled_at = timezone.now()
            delegation.save(update_fields=["cancelled_at"])
            audit_record(
                action="delegation.cancelled",
                actor=actor,
                target=delegation,
                after={"cancelled_at": delegation.cancelled_at},
            )
    return delegation


def item_status(item: ChecklistItem) -> ChecklistItem:
    """The item re-read with its sign-off status annotations."""
    return items_with_status(ChecklistItem.objects.filter(pk=item.pk)).get()
