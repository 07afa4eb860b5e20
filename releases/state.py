"""Writing a release's state: the one place that records it (timestamps and the audit
event). Which moves are allowed, and when, is decided by releases.services.release_transition
and by the checks that send an approved release back to work."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _

from config.domain import Conflict, failure

from .audit import audit_record
from .models import AuditAction, Release

S = Release.State


def release_set_state(
    release: Release, *, actor: User, to: str, reason: str = "", extra: dict[str, Any] | None = None
) -> None:
    """Inside the caller's transaction, with the release row locked."""
    before = release.state
    now = timezone.now()
    release.state = to
    release.state_changed_at = now
    release.state_reason = reason
    if to == S.APPROVED:
        release.approved_at, release.approved_by = now, actor
    elif to == S.LIVE:
        release.went_live_at = now
    elif to == S.COMPLETED:
        release.completed_at = now
    if to != S.APPROVED and before == S.APPROVED:
        release.freeze_override_reason = ""
    release.save(
        update_fields=[
            "state",
            "state_changed_at",
            "state_reason",
            "approved_at",
            "approved_by",
            "went_live_at",
            "completed_at",
            "freeze_override_reason",
            "updated_at",
        ]
    )
    audit_record(
        action=AuditAction.release_state(to),
        actor=actor,
        target=release,
        release=release,
        before={"state": before},
        after={"state": to, "reason": reason, **(extra or {})},
    )


def require_not_closed(release: Release, *, message: str = "", state_failure: bool = False) -> None:
    """Nothing about a completed, cancelled or rolled-back release changes any more: a
    Conflict with `message` (or one naming the state), and with `state_failure` a failure
    naming the state."""
    if release.is_closed:
        state = release.get_state_display().lower()
        raise Conflict(
            message or _("The release is %(state)s; it can't change.") % {"state": state},
            code="release_closed",
            failures=[failure("release_closed", _("The release is %(state)s.") % {"state": state})]
            if state_failure
            else None,
        )


def lock_release(release: Release) -> Release:
    """The release row, locked: every write to a release or its checklist takes this lock
    first (then an item's), so item writes, sign-offs and the go/no-go never interleave."""
    return Release.objects.select_for_update().get(pk=release.pk)
