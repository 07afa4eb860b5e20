"""Writes to checklist items: ad-hoc items, and changes by release managers and assignees."""

from __future__ import annotations

import datetime as dt
import mimetypes
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from checklists.models import ROLE_NEEDS_SIGNOFFS, SIGNOFFS_NEED_ROLE, Category
from config.domain import UNSET, Conflict, Forbidden, Invalid, clean_aware, clean_text, failure
from releases import permissions
from releases.audit import Changes, audit_record, snapshot
from releases.models import AuditAction, Release
from releases.readiness import release_reopen_if_not_ready
from releases.state import lock_release

from ..models import ChecklistItem, SignOff
from .common import lock_item, next_order, require_open
from .status import checklist_refresh

State = ChecklistItem.State
# Changing any of these makes earlier approvals stale.
SUBSTANTIVE_FIELDS = (
    "state",
    "evidence_url",
    "evidence_file",
    "title",
    "guidance",
    "justification",
    "approver_role",
    "required_signoffs",
)
# What made an item ready at the go/no-go; once the release is live, a ready item keeps it
# (its approvals can't be revoked then either, nor made stale).
LIVE_FROZEN_FIELDS = (*SUBSTANTIVE_FIELDS, "assignee", "required")
CONTRIBUTOR_FIELDS = {"state", "evidence_url", "evidence_file", "note", "justification", "blocked_reason"}
NOT_ASSIGNEE = gettext_noop("Only the item's assignee and the release managers can change it.")
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
    "evidence_file",
    "note",
    "justification",
    "blocked_reason",
    "due_at",
)


def _clean_url(name: str, value: Any) -> str:
    value = clean_text(name, value or "", max_length=1000)
    if value:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            raise Invalid.field(name, _("Enter a valid http(s) URL.")) from None
    return value


def _clean_evidence_file(name: str, value: Any) -> Any:
    """An uploaded evidence file within the size limit and of an allowed type (judged by its
    name, not by what the browser claims); None or "" removes the file."""
    if value in (None, ""):
        return ""
    if not isinstance(value, UploadedFile):
        raise Invalid.field(name, _("Upload a file."))
    limit = settings.EVIDENCE_MAX_BYTES
    if value.size is None or value.size > limit:
        raise Invalid.field(
            name, _("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)}, code="file_too_large"
        )
    kind = mimetypes.guess_type(value.name or "")[0]
    if kind not in settings.EVIDENCE_CONTENT_TYPES:
        allowed = ", ".join(sorted({mimetypes.guess_extension(t) or t for t in settings.EVIDENCE_CONTENT_TYPES}))
        message = _("Files of this type can't be evidence; allowed: %(allowed)s.") % {"allowed": allowed}
        raise Invalid.field(name, message, code="file_type")
    return value


def _clean_choice(name: str, value: Any, choices: list[str]) -> Any:
    if value not in choices:
        raise Invalid.field(name, f"Unknown {name.replace('_', ' ')} {value!r}; one of: {', '.join(choices)}.")
    return value


def _clean_field(release: Release, name: str, value: Any) -> Any:
    if name == "title":
        return clean_text(name, value, max_length=300, required=True)
    if name in ("guidance", "note", "justification", "blocked_reason"):
        return clean_text(name, value or "", max_length=10000)
    if name == "category":
        return _clean_choice(name, value, Category.values)
    if name == "state":
        return _clean_choice(name, value, State.values)
    if name in ("required", "evidence_required"):
        if not isinstance(value, bool):
            raise Invalid.field(name, "Must be true or false.")
        return value
    if name == "required_signoffs":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 20:
            raise Invalid.field(name, "A whole number from 0 to 20.")
        return value
    if name == "approver_role":
        if value is not None and not isinstance(value, Group):
            raise Invalid.field(name, "Unknown approver role.")
        return value
    if name == "evidence_url":
        return _clean_url(name, value)
    if name == "evidence_file":
        return _clean_evidence_file(name, value)
    if name == "due_at":
        return clean_aware(name, value)
    if name == "assignee":
        if value is not None and not permissions.can_view_release(value, release):
            raise Invalid.field(
                name,
                _("This user can't see the release; add them to the project or as a stakeholder first."),
                code="assignee_cannot_view",
            )
        return value
    raise Invalid.field(name, "Unknown field.")


def _check_signoff_rule(item: ChecklistItem) -> None:
    """An item either needs sign-offs from a role or nobody signs it: a role with a quorum
    of 0 would count as signed with no sign-off at all."""
    if item.required_signoffs > 0 and item.approver_role_id is None:
        raise Invalid.field("approver_role", SIGNOFFS_NEED_ROLE)
    if item.required_signoffs == 0 and item.approver_role_id is not None:
        raise Invalid.field("required_signoffs", ROLE_NEEDS_SIGNOFFS)


def _enter_state(item: ChecklistItem, actor: User) -> None:
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
    if item.state == State.DONE and item.evidence_required and not (item.evidence_url or item.evidence_file):
        raise Invalid.field(
            "evidence_url", _("This item needs evidence (a link or a file) while it is done."), code="evidence_required"
        )
    if item.state == State.NOT_APPLICABLE and not item.justification:
        raise Invalid.field("justification", _("Say why the item does not apply."), code="justification_required")
    if item.state == State.BLOCKED and not item.blocked_reason:
        raise Invalid.field("blocked_reason", _("Say what blocks the item."), code="blocked_reason_required")


def signed_off_live(item: ChecklistItem, what: str) -> Conflict:
    return Conflict(
        _(
            "The release is live and this item was done and signed off for it: it stays as approved. "
            "Record follow-up work in its note or as a new item."
        ),
        code="item_signed_off_live",
        failures=[failure("item_signed_off_live", what, item=item.pk)],
    )


def new_revision(item: ChecklistItem, *, actor: User, release: Release) -> None:
    """The item changed in substance: its approvals so far go stale (recorded, they stay
    visible and no longer count)."""
    old_revision = item.revision
    item.revision += 1
    stale = item.signoffs.filter(
        decision=SignOff.Decision.APPROVE, revoked_at__isnull=True, item_revision=old_revision
    ).select_related("approver")
    for signoff in stale:
        audit_record(
            action=AuditAction.SIGNOFF_STALE,
            actor=actor,
            target=signoff,
            release=release,
            after={"item": item.pk, "approver": signoff.approver.get_username(), "revision": item.revision},
        )


def _check_may_change(*, actor: User, item: ChecklistItem, fields: set[str]) -> bool:
    """Release managers may change anything; the assignee its status, evidence, note,
    justification and blocked reason. Returns whether the actor manages the release."""
    permissions.check_release(actor, item.release)
    if permissions.can_manage_release(actor, item.release):
        return True
    if item.assignee_id != actor.pk:
        raise Forbidden(_(NOT_ASSIGNEE), code="not_assignee")
    outside = sorted(fields - CONTRIBUTOR_FIELDS)
    if outside:
        raise Forbidden(
            _("Only release managers can change %(fields)s.") % {"fields": ", ".join(outside)},
            code="not_release_manager",
        )
    return False


def _record_item_changes(tracked: Changes, *, actor: User, release: Release) -> None:
    item: Any = tracked.obj
    tracked.record(AuditAction.ITEM_ASSIGNED, actor=actor, release=release, only=["assignee"])
    tracked.record(
        AuditAction.ITEM_STATE_CHANGED,
        actor=actor,
        release=release,
        only=["state"],
        extra={
            "justification": item.justification,
            "blocked_reason": item.blocked_reason,
            "evidence_url": item.evidence_url,
        },
    )
    rest = [f for f in tracked.changed if f not in ("assignee", "state")]
    tracked.record(AuditAction.ITEM_UPDATED, actor=actor, release=release, only=rest)


def item_update(*, item: ChecklistItem, actor: User, **changes: Any) -> ChecklistItem:
    """Change an item (see _check_may_change for who may change what). A change of status,
    evidence or text makes earlier approvals stale."""
    changes = {k: v for k, v in changes.items() if v is not UNSET}
    is_manager = _check_may_change(actor=actor, item=item, fields=set(changes))
    require_open(item.release)
    clean = {name: _clean_field(item.release, name, value) for name, value in changes.items()}
    with transaction.atomic():
        release, item = lock_item(item)
        require_open(release)
        if not is_manager and item.assignee_id != actor.pk:  # reassigned since the caller read it
            raise Forbidden(_(NOT_ASSIGNEE), code="not_assignee")
        was_ready = item.is_ready
        tracked = Changes(item, AUDITED_FIELDS)
        for name, value in clean.items():
            setattr(item, name, value)
        _check_signoff_rule(item)
        if item.state != tracked.before["state"]:
            _enter_state(item, actor)
        _check_state_requirements(item)
        if not tracked.take():
            return item
        frozen = [f for f in tracked.changed if f in LIVE_FROZEN_FIELDS]
        if release.state == Release.State.LIVE and frozen and was_ready:
            raise signed_off_live(item, _("Can't change %(fields)s.") % {"fields": ", ".join(frozen)})
        if any(f in tracked for f in SUBSTANTIVE_FIELDS):
            new_revision(item, actor=actor, release=release)
        item.edited_at = timezone.now()
        item.save()
        _record_item_changes(tracked, actor=actor, release=release)
        checklist_refresh(release=release, items=[item])
        release_reopen_if_not_ready(release=release, actor=actor, why=f"Item changed: {item.title}")
    return item


def item_create(
    *,
    release: Release,
    actor: User,
    title: str,
    category: str = Category.OTHER,
    guidance: str = "",
    required: bool = True,
    approver_role: Group | None = None,
    required_signoffs: int | None = None,
    evidence_required: bool = False,
    due_at: dt.datetime | None = None,
    assignee: User | None = None,
    section: str = "",
) -> ChecklistItem:
    """An ad-hoc item, added by a release manager."""
    permissions.check_release(actor, release, manage=True)
    require_open(release)
    if required_signoffs is None:
        required_signoffs = 1 if approver_role is not None else 0
    fields = {
        "title": title,
        "category": category,
        "guidance": guidance,
        "required": required,
        "approver_role": approver_role,
        "required_signoffs": required_signoffs,
        "evidence_required": evidence_required,
        "due_at": due_at,
        "assignee": assignee,
    }
    clean = {name: _clean_field(release, name, value) for name, value in fields.items()}
    _check_signoff_rule(ChecklistItem(**clean))
    section = clean_text("section", section or "", max_length=200) or "Additional items"
    with transaction.atomic():
        release = lock_release(release)
        require_open(release)
        item = ChecklistItem.objects.create(
            release=release, is_adhoc=True, section=section, order=next_order(release), **clean
        )
        audit_record(
            action=AuditAction.ITEM_CREATED,
            actor=actor,
            target=item,
            release=release,
            after=snapshot(item, AUDITED_FIELDS),
        )
        if assignee is not None:
            audit_record(
                action=AuditAction.ITEM_ASSIGNED,
                actor=actor,
                target=item,
                release=release,
                after={"assignee": assignee.pk},
            )
        checklist_refresh(release=release, items=[item])
        release_reopen_if_not_ready(release=release, actor=actor, why=f"Item added: {item.title}")
    return item
