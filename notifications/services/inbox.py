"""Writes of a person's inbox and of how they want to be told."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.domain import Invalid

from ..models import CHOOSABLE_EVENTS, CRITICAL_EVENTS, Notification, Preference


def notification_read(*, notification: Notification, actor: User) -> Notification:
    """Mark one of the person's inbox entries read (again: nothing changes)."""
    if notification.user_id != actor.pk:
        raise Invalid.field("notification", _("Only its recipient can mark a notification read."), code="not_yours")
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
    notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_read_all(*, actor: User) -> int:
    """Mark everything in the person's inbox read; how many were unread."""
    return Notification.objects.filter(user_id=actor.pk, channel="inbox", read_at__isnull=True).update(
        read_at=timezone.now()
    )


@transaction.atomic
def preferences_update(*, user: User, actor: User, preferences: dict[str, str]) -> None:
    """Set how the person is told of each event named (immediately, digest, off). Critical
    events (go-live changes, rollbacks, cancellations) are always told immediately."""
    if actor.pk != user.pk:
        raise Invalid.field("preferences", _("Only the person themselves can change their preferences."))
    known = {str(event) for event in CHOOSABLE_EVENTS}
    problems = []
    for event, mode in preferences.items():
        if event not in known:
            problems.append(_("Unknown event %(event)s.") % {"event": repr(event)[:60]})
        elif mode not in Preference.Mode.values:
            problems.append(_("%(event)s: unknown choice %(mode)s.") % {"event": event, "mode": repr(mode)[:40]})
        elif event in CRITICAL_EVENTS and mode != Preference.Mode.IMMEDIATE:
            problems.append(_("%(event)s can't be turned off or delayed: it is critical.") % {"event": event})
    if problems:
        raise Invalid(problems[0], code="invalid", fields={"preferences": problems})
    for event, mode in preferences.items():
        Preference.objects.update_or_create(user=user, event=event, defaults={"mode": mode})
