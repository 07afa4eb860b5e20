"""Delivering the outbox: claim a row with a conditional update (so two workers, or one task
run twice, send it once), send it through its channel, and record the outcome. A claim is a
short lease: a worker killed mid-send leaves a row the sweeper hands out again when the lease
ends."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ..channels import CHANNELS
from ..mail import TransportError
from ..models import Notification

Status = Notification.Status
log = logging.getLogger(__name__)


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS)


def backoff(attempts: int) -> int:
    """Seconds before the next try after `attempts` failed ones: 30 s, 1, 2, 4 ... minutes, at
    most an hour."""
    return min(30 * 2 ** max(attempts - 1, 0), 3600)


@dataclass
class Outcome:
    sent: bool = False
    retry_in: int | None = None


def _claimable(now: dt.datetime) -> Q:
    # A retry's timer may fire a moment early: a second of slack.
    return Q(status=Status.PENDING, next_attempt_at__lte=now + dt.timedelta(seconds=1)) | Q(
        status=Status.SENDING, claimed_until__lt=now
    )


def notification_deliver(*, notification_id: int) -> Outcome:
    """Send one row if it is still to be sent and nobody else holds it."""
    now = timezone.now()
    with transaction.atomic():
        claimed = (
            Notification.objects.filter(_claimable(now), pk=notification_id)
            .exclude(channel=Notification.Channel.INBOX)
            .update(status=Status.SENDING, claimed_until=now + lease(), attempts=F("attempts") + 1)
        )
    if not claimed:
        return Outcome()
    notification = Notification.objects.select_related("user", "release__project").get(pk=notification_id)
    if notification.user is not None and not notification.user.is_active:
        Notification.objects.filter(pk=notification_id, status=Status.SENDING).update(
            status=Status.DROPPED, claimed_until=None, last_error="the recipient's account is deactivated"
        )
        return Outcome()
    try:
        CHANNELS[notification.channel].send(notification)
    except TransportError as error:
        return _failed(notification, error)
    except Exception as error:
        log.exception("Delivering notification %s failed", notification_id)
        return _failed(notification, TransportError(f"{type(error).__name__}: {error}", permanent=False))
    Notification.objects.filter(pk=notification_id, status=Status.SENDING).update(
        status=Status.SENT, sent_at=timezone.now(), claimed_until=None, last_error=""
    )
    return Outcome(sent=True)


def _failed(notification: Notification, error: TransportError) -> Outcome:
    if error.permanent or notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        Notification.objects.filter(pk=notification.pk, status=Status.SENDING).update(
            status=Status.FAILED, claimed_until=None, last_error=str(error)[:2000]
        )
        return Outcome()
    wait = backoff(notification.attempts)
    Notification.objects.filter(pk=notification.pk, status=Status.SENDING).update(
        status=Status.PENDING,
        claimed_until=None,
        next_attempt_at=timezone.now() + dt.timedelta(seconds=wait),
        last_error=str(error)[:2000],
    )
    return Outcome(retry_in=wait)


# Pending rows younger than this are taken to be in the broker's hands still.
SWEEP_GRACE = dt.timedelta(seconds=30)


def notifications_due(*, limit: int = 1000) -> list[int]:
    """The rows the sweeper hands out again: pending ones whose time came a while ago (queued
    while the broker was down, or whose retry was lost) and claimed ones whose lease has
    ended."""
    now = timezone.now()
    return list(
        Notification.objects.filter(_claimable(now - SWEEP_GRACE) | Q(status=Status.SENDING, claimed_until__lt=now))
        .exclude(channel=Notification.Channel.INBOX)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def notification_retry(*, notification_id: int) -> None:
    """An administrator sends a failed row again (from the admin)."""
    updated = Notification.objects.filter(pk=notification_id, status=Status.FAILED).update(
        status=Status.PENDING, next_attempt_at=timezone.now(), attempts=0
    )
    if updated:
        from .outbox import outbox_queue

        outbox_queue([notification_id])
