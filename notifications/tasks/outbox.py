"""Celery entry points of the outbox: delivery (the retry policy lives here), the sweeper,
digests and reminders."""

from __future__ import annotations

from celery import shared_task

from ..services import delivery, digests


@shared_task(bind=True, name="notifications.deliver", acks_late=True, max_retries=None, ignore_result=True)
def notification_deliver(self, notification_id: int) -> bool:  # type: ignore[no-untyped-def]
    outcome = delivery.notification_deliver(notification_id=notification_id)
    if outcome.retry_in is not None:
        # The row waits as pending with its next try's time; if this retry is lost the sweeper
        # finds it then.
        raise self.retry(countdown=outcome.retry_in)
    return outcome.sent


@shared_task(name="notifications.sweep", ignore_result=True)
def notifications_sweep() -> int:
    """Queue again what is pending and due, or claimed by a worker whose lease ended."""
    from ..services.outbox import publish

    due = delivery.notifications_due()
    publish(due)
    return len(due)


@shared_task(name="notifications.digests", ignore_result=True)
def digests_send() -> int:
    return len(digests.digests_compose())


@shared_task(name="notifications.reminders", ignore_result=True)
def reminders_send() -> int:
    return digests.reminders_compose()
