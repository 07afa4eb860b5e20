"""Writing the outbox: the rows that tell people of an event, in the transaction of the change
that caused it. Delivery is queued once that transaction commits; if the broker is down the
rows wait, and the sweeper sends them later. Nothing here ever waits on Redis."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from releases.models import AuditEvent, Release

from .. import recipients
from ..models import (
    CRITICAL_EVENTS,
    NOT_DIGESTED_EVENTS,
    Event,
    Notification,
    Preference,
    Profile,
    ProjectWebhook,
    Report,
)
from ..recipients import Told

log = logging.getLogger(__name__)
Mode = Preference.Mode


def outbox_on_audit(event: AuditEvent) -> None:
    """The audit trail's listener (releases.audit.AUDIT_LISTENERS): tell whom the event concerns."""
    if event.action not in recipients.HANDLED_ACTIONS:
        return
    told = recipients.for_audit(event)
    if told is not None:
        outbox_write(told)


def outbox_report_ready(*, report: Report) -> list[int]:
    """E-mail a finished readiness report (attached) to the release's stakeholders."""
    release = Release.objects.select_related("project").get(pk=report.release_id)
    return outbox_write(recipients.report_ready(release, report.pk))


def modes_of(user_ids: Iterable[int], event: Event) -> dict[int, str]:
    """How each user wants to be told of `event` (no row: immediately; critical: always)."""
    ids = list(user_ids)
    if event in CRITICAL_EVENTS or not ids:
        return dict.fromkeys(ids, Mode.IMMEDIATE)
    chosen = dict(Preference.objects.filter(user_id__in=ids, event=event).values_list("user_id", "mode"))
    return {pk: chosen.get(pk, Mode.IMMEDIATE) for pk in ids}


def _languages(user_ids: list[int]) -> dict[int, str]:
    return dict(Profile.objects.filter(user_id__in=user_ids).exclude(language="").values_list("user_id", "language"))


def outbox_write(told: Told) -> list[int]:
    """The rows telling `told`: for each user who has not turned the event off, an inbox
    entry (delivered as it is written) and an e-mail (now or in the digest); an e-mail to each
    outside address; a post to the project's webhook. Rows already written (same key) are
    left as they are. Returns the ids queued for delivery."""
    now = timezone.now()
    user_ids = [user.pk for user in told.users]
    modes = modes_of(user_ids, told.event)
    languages = _languages(user_ids)
    common = {
        "event": told.event,
        "release": told.release,
        "item": told.item,
        "context": told.context,
        "actor_name": told.actor_name,
        "created_at": now,
        "next_attempt_at": now,
    }
    rows = []
    for user in told.users:
        mode = modes[user.pk]
        if mode == Mode.OFF:
            continue
        if mode == Mode.DIGEST and told.event in NOT_DIGESTED_EVENTS:
            mode = Mode.IMMEDIATE
        base = f"{told.key}:u{user.pk}"
        rows.append(Notification(key=f"{base}:inbox", channel="inbox", status="sent", sent_at=now, user=user, **common))
        if user.email:
            status = Notification.Status.IN_DIGEST if mode == Mode.DIGEST else Notification.Status.PENDING
            language = languages.get(user.pk, "")
            rows.append(
                Notification(
                    key=f"{base}:email", channel="email", status=status, user=user, language=language, **common
                )
            )
    for address in told.addresses:
        rows.append(Notification(key=f"{told.key}:a:{address}"[:200], channel="email", address=address, **common))
    if told.webhook and ProjectWebhook.objects.filter(project_id=told.release.project_id, active=True).exists():
        rows.append(Notification(key=f"{told.key}:webhook", channel="webhook", **common))
    if not rows:
        return []
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    keys = [row.key for row in rows if row.status == Notification.Status.PENDING]
    ids = list(Notification.objects.filter(key__in=keys, status="pending").values_list("pk", flat=True))
    outbox_queue(ids)
    return ids


def outbox_queue(ids: list[int]) -> None:
    """Queue the delivery of these rows once the transaction commits."""
    if ids:
        transaction.on_commit(lambda: publish(ids))


def publish(ids: list[int]) -> None:
    """Hand the rows to the broker. With the broker down, give up at once (one connection
    attempt, no retries) and leave them pending: the sweeper queues them again (a request
    never waits on Redis)."""
    from config.celery import app

    from ..tasks.outbox import notification_deliver

    if settings.CELERY_TASK_ALWAYS_EAGER:
        for pk in ids:
            try:
                notification_deliver.apply((pk,))
            except Exception:
                log.exception("Delivering notification %s in-process failed", pk)
        return
    try:
        with app.pool.acquire(block=True, timeout=2) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
            for pk in ids:
                notification_deliver.apply_async((pk,), connection=connection, retry=False)
    except Exception:
        log.warning("The broker is unavailable; %d notification(s) wait for the sweeper", len(ids))
