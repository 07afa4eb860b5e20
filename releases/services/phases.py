"""Deployment phases (staging, canary, ...): starting the first production phase takes an
approved release live."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from config.domain import Conflict, Invalid, clean_text, failure

from .. import permissions
from ..audit import audit_record
from ..models import AuditAction, Phase, Release
from ..state import lock_release, release_set_state, require_not_closed

S = Release.State
PHASE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    Phase.State.PENDING: (Phase.State.IN_PROGRESS,),
    Phase.State.IN_PROGRESS: (Phase.State.DONE, Phase.State.ROLLED_BACK),
    Phase.State.DONE: (Phase.State.ROLLED_BACK,),
    Phase.State.ROLLED_BACK: (Phase.State.IN_PROGRESS,),
}


def phase_create(
    *, release: Release, actor: User, name: str, production: bool = True, order: int | None = None
) -> Phase:
    permissions.check_release(actor, release, manage=True)
    name = clean_text("name", name, max_length=200, required=True)
    if order is not None and (isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= 10000):
        raise Invalid.field("order", "A whole number from 0 to 10000.")
    with transaction.atomic():
        release = lock_release(release)
        require_not_closed(release)
        if order is None:
            order = (release.phases.aggregate(m=Max("order"))["m"] or 0) + 1
        try:
            with transaction.atomic():
                phase = Phase.objects.create(release=release, name=name, production=bool(production), order=order)
        except IntegrityError:
            raise Invalid.field(
                "order", f"The release has a phase at position {order} already.", code="order_taken"
            ) from None
        audit_record(
            action=AuditAction.PHASE_CREATED,
            actor=actor,
            target=phase,
            release=release,
            after={"name": name, "order": order, "production": phase.production},
        )
    return phase


def phase_transition(*, phase: Phase, actor: User, to: str) -> Phase:
    """Move a deployment phase. Starting the first production phase takes an approved
    release live."""
    permissions.check_release(actor, phase.release, manage=True)
    if to not in Phase.State.values:
        raise Invalid.field("to", f"Unknown phase state {str(to)[:50]!r}.", code="unknown_state")
    with transaction.atomic():
        release = lock_release(phase.release)
        phase = Phase.objects.select_for_update().get(pk=phase.pk)
        if to not in PHASE_TRANSITIONS[phase.state]:
            state = phase.get_state_display().lower()
            raise Conflict(
                _("A phase can't go from %(from)s to %(to)s.") % {"from": state, "to": Phase.State(to).label.lower()},
                code="invalid_transition",
                failures=[
                    failure(
                        "invalid_transition", _("Phase %(name)s is %(state)s.") % {"name": phase.name, "state": state}
                    )
                ],
            )
        require_not_closed(
            release, message=_("The release is %(state)s.") % {"state": release.get_state_display().lower()}
        )
        starts_production = to == Phase.State.IN_PROGRESS and phase.production
        if starts_production and not release.production_may_start:
            raise Conflict(
                _("A production phase can start only once the release is approved."),
                code="transition_refused",
                failures=[
                    failure(
                        "release_not_approved",
                        _("The release is %(state)s.") % {"state": release.get_state_display().lower()},
                    )
                ],
            )
        before = phase.state
        now = timezone.now()
        phase.state = to
        if to == Phase.State.IN_PROGRESS:
            phase.started_at, phase.finished_at = now, None
        else:
            phase.finished_at = now
        phase.save()
        audit_record(
            action=AuditAction.phase_state(to),
            actor=actor,
            target=phase,
            release=release,
            before={"state": before},
            after={"state": to, "phase": phase.name},
        )
        if starts_production and release.state == S.APPROVED:
            release_set_state(release, actor=actor, to=S.LIVE, reason=f"Production phase started: {phase.name}")
    return phase
