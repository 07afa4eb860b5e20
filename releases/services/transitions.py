"""The release state machine: `release_transition` is the only way a release changes state
on request (phases going live and the go/no-go's undoing call release_set_state too), and a
refused transition lists every unmet condition."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from approvals.services import checklist_refresh
from config.domain import Conflict, Invalid, clean_text, failure

from .. import permissions
from ..models import Phase, Release
from ..readiness import approval_failures, go_no_go_record_write
from ..selectors import freeze_windows_hit
from ..state import lock_release, release_set_state

S = Release.State
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.DRAFT: (S.IN_PROGRESS, S.CANCELLED),
    S.IN_PROGRESS: (S.APPROVED, S.CANCELLED),
    S.APPROVED: (S.IN_PROGRESS, S.LIVE, S.CANCELLED),
    S.LIVE: (S.COMPLETED, S.ROLLED_BACK),
    S.COMPLETED: (),
    S.CANCELLED: (),
    S.ROLLED_BACK: (),
}


def _approve(
    release: Release, *, actor: User, reason: str, override_freeze: bool
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The go/no-go: its failures, or none and what the approval records (the freeze windows
    overridden, if any; the reason goes on the release)."""
    # Lock the items so no sign-off or item change slips in during the decision, and take it
    # on their status computed afresh (not only as stored): the one decision that can't be
    # undone doesn't rest on the stored values being right.
    list(release.items.select_for_update().values_list("pk", flat=True))
    checklist_refresh(release=release)
    failures = approval_failures(release, actor=actor, override_freeze=override_freeze, reason=reason)
    if failures or not (override_freeze and release.go_live_at):
        return failures, {}
    hits = freeze_windows_hit(project_id=release.project_id, start=release.go_live_at, end=release.window_end_at)
    if not hits:
        return [], {}
    release.freeze_override_reason = reason
    return [], {"freeze_override": [w.name for w in hits]}


def release_transition(
    *, release: Release, actor: User, to: str, reason: str = "", override_freeze: bool = False
) -> Release:
    """Move a release through its states. A refused move raises Conflict listing every unmet
    condition (`failures`)."""
    permissions.check_release(actor, release, manage=True)
    if to not in S.values:
        raise Invalid.field(
            "to", f"Unknown state {str(to)[:50]!r}; one of: {', '.join(S.values)}.", code="unknown_state"
        )
    reason = clean_text("reason", reason, max_length=10000)
    with transaction.atomic():
        release = lock_release(release)
        if to not in TRANSITIONS[release.state]:
            now_label, to_label = release.get_state_display().lower(), S(to).label.lower()
            allowed = ", ".join(S(s).label.lower() for s in TRANSITIONS[release.state]) or _("nothing")
            raise Conflict(
                _("A release can't go from %(from)s to %(to)s.") % {"from": now_label, "to": to_label},
                code="invalid_transition",
                failures=[
                    failure(
                        "invalid_transition",
                        _("Allowed from %(from)s: %(allowed)s.") % {"from": now_label, "allowed": allowed},
                    )
                ],
            )
        failures: list[dict[str, Any]] = []
        extra: dict[str, Any] = {}
        if to == S.APPROVED:
            failures, extra = _approve(release, actor=actor, reason=reason, override_freeze=override_freeze)
        elif to == S.COMPLETED:
            failures = [
                failure(
                    "phase_not_done",
                    _("Phase not done: %(name)s (%(state)s).")
                    % {"name": phase.name, "state": phase.get_state_display().lower()},
                    phase=phase.pk,
                )
                for phase in release.phases.exclude(state=Phase.State.DONE)
            ]
        elif to == S.ROLLED_BACK and not reason:
            failures.append(failure("reason_required", _("Say why the release was rolled back.")))
        if failures:
            raise Conflict(
                _("The release can't move to %(to)s: %(n)s unmet condition(s).")
                % {"to": S(to).label.lower(), "n": len(failures)},
                code="transition_refused",
                failures=failures,
            )
        release_set_state(release, actor=actor, to=to, reason=reason, extra=extra)
        if to == S.APPROVED:
            go_no_go_record_write(
                release=release, actor=actor, reason=reason, freeze_override=extra.get("freeze_override")
            )
    return release
