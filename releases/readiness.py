"""The go/no-go: what a release needs to be approved, and sending an approved release back
to work when it no longer has it. Both the transition to `approved` and every change that
can undo readiness (an item changed, a sign-off rejected or revoked, a template upgraded)
read the conditions here, from the status the services keep on each item and release
(approvals.services.status, computed through approvals.selectors)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from approvals.models import SignOff
from approvals.selectors import required_items_not_ready, signoffs_with_status
from config.domain import failure

from . import permissions
from .models import GoNoGoRecord, Release
from .selectors import freeze_windows_hit
from .state import release_set_state


def _not_done(item: Any, where: str, who: str, about: dict[str, Any]) -> dict[str, Any]:
    blocked = f" ({item.blocked_reason})" if item.state == item.State.BLOCKED and item.blocked_reason else ""
    return failure(
        "item_not_done",
        _("Not done: %(where)s is %(state)s%(blocked)s, %(who)s.")
        % {"where": where, "state": item.get_state_display().lower(), "blocked": blocked, "who": who},
        blocked_reason=item.blocked_reason or None,
        **about,
    )


def _rejected(item: Any, where: str, about: dict[str, Any]) -> dict[str, Any]:
    by, comment = item.rejected_by or "?", item.rejection_comment or ""
    return failure(
        "item_rejected",
        _("Rejected by %(by)s: %(where)s: “%(comment)s”. It stands until the item is done again.")
        % {"by": by, "where": where, "comment": comment},
        rejected_by=by,
        comment=comment,
        **about,
    )


def _unsigned(item: Any, where: str, about: dict[str, Any]) -> dict[str, Any]:
    role, stale = item.approver_role_name or "?", item.stale_approvals
    note = (
        ngettext(
            "; %(n)d earlier approval went stale when the item changed",
            "; %(n)d earlier approvals went stale when the item changed",
            stale,
        )
        % {"n": stale}
        if stale
        else ""
    )
    return failure(
        "signoff_missing",
        _("Sign-off missing: %(where)s has %(have)s of %(need)s from %(role)s%(note)s.")
        % {"where": where, "have": item.valid_approvals, "need": item.required_signoffs, "role": role, "note": note},
        have=item.valid_approvals,
        need=item.required_signoffs,
        role=role,
        stale=stale,
        **about,
    )


def _item_failures(item: Any) -> list[dict[str, Any]]:
    """Why a required item is not ready, with what a release manager needs to chase it: where
    it is, who has it, what blocks it, who rejected it and why, which approvals went stale.
    `item` is a row of required_items_not_ready."""
    where = f"{item.title} [{' · '.join(p for p in (item.section, item.source_slug) if p)}]"
    about = {
        "item": item.pk,
        "title": item.title,
        "section": item.section,
        "template": item.source_slug or None,
        "state": item.state,
        "assignee": item.assignee_username,
    }
    who = _("assigned to %(name)s") % {"name": about["assignee"]} if about["assignee"] else _("not assigned")
    out = []
    if item.state not in item.FINISHED_STATES:
        out.append(_not_done(item, where, who, about))
    if item.has_rejection:
        out.append(_rejected(item, where, about))
    elif not item.is_signed:
        out.append(_unsigned(item, where, about))
    return out


def checklist_failures(release: Release) -> list[dict[str, Any]]:
    """The go/no-go conditions an approved release must keep: every required item done (or
    justified not applicable) with its quorum of valid sign-offs and no standing rejection,
    and a rollback plan. Reads the release's stored readiness (fresh: the caller holds the
    release row locked) and names each item only when one is not ready."""
    failures = []
    if release.required_ready < release.required_total:
        for item in required_items_not_ready(release.pk):
            failures.extend(_item_failures(item))
    if not release.rollback_plan.strip():
        failures.append(failure("rollback_plan_missing", _("There is no rollback plan.")))
    return failures


def _freeze_failures(release: Release, *, actor: User, override_freeze: bool, reason: str) -> list[dict[str, Any]]:
    if release.go_live_at is None:
        return []
    hits = freeze_windows_hit(project_id=release.project_id, start=release.go_live_at, end=release.window_end_at)
    may_override = permissions.can_override_freeze(actor)
    if not hits or (override_freeze and may_override and reason.strip()):
        return []
    failures = [
        failure(
            "freeze_window",
            _("The go-live falls in the freeze window “%(name)s”.") % {"name": window.name},
            freeze_window=window.pk,
        )
        for window in hits
    ]
    if override_freeze and not may_override:
        failures.append(failure("override_not_permitted", _("You may not override a freeze window.")))
    if override_freeze and not reason.strip():
        failures.append(failure("override_reason_missing", _("Overriding a freeze window needs a reason.")))
    return failures


def approval_failures(release: Release, *, actor: User, override_freeze: bool, reason: str) -> list[dict[str, Any]]:
    """Every unmet condition for the go/no-go (moving to `approved`)."""
    failures = []
    if not release.items.exists():
        failures.append(failure("empty_checklist", _("The release has no checklist items.")))
    failures.extend(checklist_failures(release))
    if release.go_live_at is None:
        failures.append(failure("go_live_missing", _("No go-live date is set.")))
    elif release.go_live_at <= timezone.now():
        failures.append(failure("go_live_in_past", _("The go-live date is in the past.")))
    failures.extend(_freeze_failures(release, actor=actor, override_freeze=override_freeze, reason=reason))
    return failures


def release_reopen_if_not_ready(*, release: Release, actor: User, why: str) -> None:
    """An approved release that no longer meets its go/no-go conditions goes back to
    in_progress. Inside the caller's transaction, with the release row locked and its
    readiness refreshed."""
    if release.state == Release.State.APPROVED and checklist_failures(release):
        release_set_state(release, actor=actor, to=Release.State.IN_PROGRESS, reason=why)


def go_no_go_record_write(
    *, release: Release, actor: User, reason: str = "", freeze_override: list[str] | None = None
) -> GoNoGoRecord:
    """Keep what the go/no-go decided (inside the approve transition's transaction, the release
    and its items locked, their status just refreshed): who and when, the readiness, every
    approval that counted, and the freeze windows overridden with the reason. Never updated."""
    counted = (
        signoffs_with_status(SignOff.objects.filter(item__release=release, decision=SignOff.Decision.APPROVE))
        .filter(counts_now=True)  # type: ignore[misc]  # an annotation of signoffs_with_status
        .annotate(item_title=F("item__title"))
        .order_by("item__order", "item_id", "created_at", "id")
    )
    signoffs = [
        {
            "id": s.pk,
            "item": s.item_id,
            "item_title": s.item_title,  # type: ignore[attr-defined]
            "approver": s.approver_username,  # type: ignore[attr-defined]
            "signed_by": s.signed_by_username,  # type: ignore[attr-defined]
            "on_behalf_of": s.approver_username if s.signed_by_id != s.approver_id else None,  # type: ignore[attr-defined]
            "role": s.role_name,  # type: ignore[attr-defined]
            "decision": s.decision,
            "comment": s.comment,
            "decided_at": s.created_at.isoformat(),
        }
        for s in counted
    ]
    decided_at = release.approved_at or timezone.now()
    return GoNoGoRecord.objects.create(
        release=release,
        decided_by=actor,
        decided_by_name=actor.get_username(),
        decided_at=decided_at,
        readiness=release.readiness,
        required_total=release.required_total,
        required_ready=release.required_ready,
        reason=reason,
        snapshot={
            "go_live_at": release.go_live_at.isoformat() if release.go_live_at else None,
            "window_end_at": release.window_end_at.isoformat() if release.window_end_at else None,
            "signoffs": signoffs,
            "freeze_override": {"windows": freeze_override, "reason": reason} if freeze_override else None,
        },
    )
