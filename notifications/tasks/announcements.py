"""Celery entry points of announcements: each takes ids and calls one service, and owns only
its retry policy. Beat schedule (the lead registers it): `notifications.announcements_sweep`
every minute."""

from __future__ import annotations

from celery import shared_task

from ..mail import TransportError
from ..services.announcement_sending import announcement_send_batch, announcement_start, announcements_sweep


@shared_task(name="notifications.announcement_start", acks_late=True)
def announcement_start_task(announcement_id: int) -> bool:
    return announcement_start(announcement_id=announcement_id)


@shared_task(
    bind=True,
    name="notifications.announcement_batch",
    acks_late=True,
    max_retries=8,
)
def announcement_batch_task(self, announcement_id: int, batch: int) -> int:  # type: ignore[no-untyped-def]
    """A transient SMTP failure retries with back-off (10 s doubling to ~20 min); after the
    last, the rows are left for the sweeper; a permanent one has already marked its row."""
    try:
        return announcement_send_batch(announcement_id=announcement_id, batch=batch)
    except TransportError as error:
        if error.permanent:
            raise
        raise self.retry(exc=error, countdown=min(10 * 2**self.request.retries, 1200)) from error


@shared_task(name="notifications.announcements_sweep")
def announcements_sweep_task() -> dict[str, int]:
    return announcements_sweep()
