"""The daily digest and the scheduled reminders: both write outbox rows like any event."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from .. import recipients
from ..models import CHOOSABLE_EVENTS, CRITICAL_EVENTS, Event, Notification, Preference
from .outbox import outbox_queue, outbox_write

Status = Notification.Status


def digests_compose(*, now: dt.datetime | None = None) -> list[int]:
    """One digest e-mail per user with something waiting for it, gathering everything that
    waits (never an empty one; at most one a day). Returns the digests' ids."""
    now = now or timezone.now()
    made = []
    user_ids = (
        Notification.objects.filter(status=Status.IN_DIGEST).values_list("user_id", flat=True).distinct().order_by()
    )
    inactive = set(User.objects.filter(pk__in=list(user_ids), is_active=False).values_list("pk", flat=True))
    if inactive:
        Notification.objects.filter(status=Status.IN_DIGEST, user_id__in=inactive).update(status=Status.DROPPED)
    for user_id in [pk for pk in user_ids if pk not in inactive]:
        with transaction.atomic():
            waiting = list(
                Notification.objects.select_for_update(skip_locked=True)
                .filter(status=Status.IN_DIGEST, user_id=user_id)
                .order_by("created_at", "pk")
            )
            if not waiting:
                continue
            digest, created = Notification.objects.get_or_create(
                key=f"digest:u{user_id}:{now:%Y-%m-%d}",
                defaults={
                    "event": Event.DIGEST,
                    "channel": Notification.Channel.EMAIL,
                    "user_id": user_id,
                    "language": waiting[-1].language,
                    "context": {"count": len(waiting)},
                    "created_at": now,
                    "next_attempt_at": now,
                },
            )
            if not created:
                continue  # today's is made already: these wait for tomorrow's
            Notification.objects.filter(pk__in=[row.pk for row in waiting]).update(
                status=Status.DIGESTED, digest=digest
            )
            outbox_queue([digest.pk])
            made.append(digest.pk)
    return made


@transaction.atomic
def digest_unsubscribe(user_id: str) -> None:
    """The digest's one-click unsubscribe: every event the person had in the digest is turned
    off (critical ones can't be, and never went to the digest), and what waits for the next
    digest is not sent."""
    Preference.objects.filter(user_id=int(user_id), mode=Preference.Mode.DIGEST).exclude(
        event__in=CRITICAL_EVENTS
    ).filter(event__in=CHOOSABLE_EVENTS).update(mode=Preference.Mode.OFF)
    Notification.objects.filter(user_id=int(user_id), status=Status.IN_DIGEST).update(status=Status.DROPPED)


def reminders_compose(*, now: dt.datetime | None = None) -> int:
    """Due-soon (2 days ahead), overdue and waiting-sign-off (over a day) reminders; each is
    sent once per due date (or per time the item was finished), whatever how often this runs."""
    now = now or timezone.now()
    told = [
        *recipients.due_soon(now, within=dt.timedelta(days=2)),
        *recipients.overdue(now),
        *recipients.signoff_waiting(now, longer_than=dt.timedelta(days=1)),
    ]
    count = 0
    for one in told:
        with transaction.atomic():
            count += len(outbox_write(one))
    return count
