"""Writing a release's state: the one place that records it (timestamps and the audit
event). Which moves are allowed, and when, is decided by releases.services.release_transition
and by the checks that send an approved release back to work."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from .audit import audit_record
from .models import Release

S = Release.State


def release_set_state(
    release: Release, *, actor: Any, to: str, reason: str = "", extra: dict[str, Any] | None = None
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
    release.save()
    audit_record(
        action=f"release.{to}",
        actor=actor,
        target=release,
        release=release,
        before={"state": before},
        after={"state": to, "reason": reason, **(extra or {})},
    )
