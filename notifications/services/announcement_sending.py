"""Sending an announcement to every subscribed address of its audience, each address once.

- Start (at `send_at`): the announcement goes scheduled → sending (a conditional update: once)
  and a delivery row is made for each subscribed address, in one INSERT ... SELECT, numbered
  into batches; then a task per batch is queued.
- A batch: its open rows are claimed with a lease (a conditional update to `claimed` with
  `claimed_until` a minute or two ahead; a claim whose lease ran out is taken again), sent over
  one SMTP connection, each row marked sent right after the server accepted its message. A
  transient failure gives the rest back and raises (the task retries with back-off); a
  permanent refusal of an address marks that row failed, and the rest go on.
- The sweeper starts what is due (an eta task may be lost with Redis), re-queues batches whose
  lease ran out (a worker killed mid-batch) or that were queued and never claimed, and
  finishes announcements with nothing left open.

A worker killed between the server's acceptance and the row's update sends that one message
again: SMTP has no two-phase commit. The message keeps its Message-ID (one per delivery row),
by which receiving systems recognise the copy.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import threading
import time
import uuid
from queue import SimpleQueue
from typing import Any

import psycopg
from django.conf import settings
from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from releases.models import AuditAction

from ..mail import TransportError, smtp_failure
from ..models import Announcement, AnnouncementDelivery
from .announcement_messages import Messages
from .announcements import announcement_audit, announcement_kinds

log = logging.getLogger(__name__)

Delivery = AnnouncementDelivery
OPEN = (Delivery.Status.PENDING, Delivery.Status.CLAIMED)
MAX_ATTEMPTS = 10


def batch_size() -> int:
    return int(getattr(settings, "ANNOUNCEMENT_BATCH_SIZE", 200))


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "ANNOUNCEMENT_LEASE_SECONDS", 120)))


def _queue_batches(announcement_id: int, batches: list[int]) -> None:
    """Queues a task per batch, and marks their open rows as queued for a lease (the sweeper
    queues them again only after that). Never fails: the sweeper makes up for a lost broker."""
    from ..tasks.announcements import announcement_batch_task

    Delivery.objects.filter(announcement_id=announcement_id, batch__in=batches, status=Delivery.Status.PENDING).update(
        claimed_until=timezone.now() + lease()
    )
    for batch in batches:
        try:
            announcement_batch_task.apply_async((announcement_id, batch), retry=False)
        except Exception:
            log.warning("announcement %s batch %s not queued", announcement_id, batch, exc_info=True)
            return


_INSERT = """
INSERT INTO {delivery} (announcement_id, email, batch, status, claim, attempts, error)
SELECT %s, email, (ROW_NUMBER() OVER (ORDER BY id) - 1) / %s, %s, '', 0, ''
FROM {member} WHERE audience_id = %s AND unsubscribed_at IS NULL
ON CONFLICT DO NOTHING
"""


def announcement_start(*, announcement_id: int) -> bool:
    """Scheduled → sending when due: the delivery rows made (one INSERT), the batches queued
    after commit. False when it is not due or was started (or cancelled) already."""
    from ..models import AudienceMember

    now = timezone.now()
    with transaction.atomic():
        due = (
            Announcement.objects.select_for_update(of=("self",))
            .select_related("release")
            .filter(pk=announcement_id, status=Announcement.Status.SCHEDULED, send_at__lte=now)
            .first()
        )
        if due is None:
            return False
        if due.kind not in announcement_kinds(due.release):  # the release was cancelled or rolled back since
            _cancel_as_moot(due, now)
            return False
        Announcement.objects.filter(pk=announcement_id).update(status=Announcement.Status.SENDING, started_at=now)
        audience_id = due.audience_id
        if audience_id is not None:
            sql = _INSERT.format(delivery=Delivery._meta.db_table, member=AudienceMember._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(sql, [announcement_id, batch_size(), Delivery.Status.PENDING, audience_id])
        total = Delivery.objects.filter(announcement_id=announcement_id).count()
        Announcement.objects.filter(pk=announcement_id).update(total=total)
        batches = (total + batch_size() - 1) // batch_size()
        transaction.on_commit(lambda: _queue_batches(announcement_id, list(range(batches))))
    if not batches:
        announcement_progress(announcement_id=announcement_id)
    return True


def _cancel_as_moot(announcement: Announcement, now: dt.datetime) -> None:
    """Not sent: what it announces no longer holds (customers would be told of a downtime that
    will not happen). Recorded as cancelled by the system, with the release's state."""
    Announcement.objects.filter(pk=announcement.pk).update(status=Announcement.Status.CANCELLED, finished_at=now)
    announcement_audit(
        announcement,
        AuditAction.ANNOUNCEMENT_CANCELLED,
        None,
        before={"status": Announcement.Status.SCHEDULED},
        after={"status": Announcement.Status.CANCELLED, "release_state": announcement.release.state},
    )


def _claim(announcement_id: int, batch: int) -> tuple[str, list[tuple[int, str]]]:
    now = timezone.now()
    open_rows = Delivery.objects.filter(announcement_id=announcement_id, batch=batch).filter(
        Q(status=Delivery.Status.PENDING) | Q(status=Delivery.Status.CLAIMED, claimed_until__lt=now)
    )
    open_rows.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=Delivery.Status.FAILED, claim="", error=f"Given up after {MAX_ATTEMPTS} attempts."
    )
    token = uuid.uuid4().hex
    open_rows.update(
        status=Delivery.Status.CLAIMED, claim=token, claimed_until=now + lease(), attempts=F("attempts") + 1
    )
    rows = Delivery.objects.filter(announcement_id=announcement_id, batch=batch, claim=token)
    return token, list(rows.filter(status=Delivery.Status.CLAIMED).order_by("pk").values_list("pk", "email"))


def _give_back(token: str) -> None:
    Delivery.objects.filter(claim=token, status=Delivery.Status.CLAIMED).update(
        status=Delivery.Status.PENDING, claim="", claimed_until=None
    )


def announcement_send_batch(*, announcement_id: int, batch: int) -> int:
    """Sends the batch's open rows over one SMTP connection; how many were sent. Raises
    TransportError (not permanent) after giving the rest back, for the task to retry."""
    announcement = Announcement.objects.select_related("release__project", "audience").get(pk=announcement_id)
    if announcement.status != Announcement.Status.SENDING:
        return 0
    token, rows = _claim(announcement_id, batch)
    if not rows:
        return 0
    sent = 0
    conn = get_connection()
    marks = _Marks(token)
    try:
        messages = _messages_of(announcement)
        conn.open()
        # The lease is renewed once a third of it has passed (a slow server), not per so many
        # messages: a batch sent at full speed costs no renewal at all.
        renew_after = lease().total_seconds() / 3
        renewed_at = time.monotonic()
        for row_id, email in rows:
            if time.monotonic() - renewed_at > renew_after:
                if not _renew(token):
                    break  # the lease was lost (and taken by another worker): stop here
                renewed_at = time.monotonic()
            if _send_one(conn, messages, row_id, email, token):
                marks.add(row_id)
                sent += 1
        marks.flush()
    except Exception as exc:
        marks.flush()  # what was accepted is marked before the rest is given back
        _give_back(token)
        if isinstance(exc, TransportError):
            raise
        raise smtp_failure(exc) from exc
    finally:
        conn.close()
        announcement_progress(announcement_id=announcement_id)
    return sent


# The marks thread's UPDATE (prepared once per connection; PostgreSQL only: an array of ids).
_MARK_SENT = (
    f"UPDATE {Delivery._meta.db_table} SET status = %s, sent_at = %s, claim = '' WHERE id = ANY(%s) AND claim = %s"
)


class _Marks:
    """Marks rows sent, right after the server accepted each. On PostgreSQL outside a
    transaction (a worker), from a thread with a connection of its own, committing without
    waiting for the disk: the next message's SMTP exchange needn't wait for the previous
    one's commit (what queued meanwhile goes in one UPDATE). A worker killed loses only marks
    not yet committed, a message or so: those addresses would be sent again. Otherwise (tests
    in a transaction, SQLite) each mark is made at once, in the caller's connection."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.queue: SimpleQueue[int | None] = SimpleQueue()
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self.thread = threading.Thread(target=self._run, name="announcement-marks", daemon=True)
            self.thread.start()

    def add(self, row_id: int) -> None:
        if self.thread is not None:
            self.queue.put(row_id)
            return
        Delivery.objects.filter(pk=row_id, claim=self.token).update(
            status=Delivery.Status.SENT, sent_at=timezone.now(), claim=""
        )

    def _run(self) -> None:
        try:
            connection.ensure_connection()
            # Bound on the server, so that PostgreSQL plans the UPDATE once (psycopg prepares
            # it) and little Python runs per mark beside the sending thread.
            cursor = psycopg.Cursor(connection.connection)
            # Committed is final for every other session at once; only a crash of
            # PostgreSQL itself could lose the last fraction of a second of marks.
            cursor.execute("SET synchronous_commit TO off")
            done = False
            while not done:
                ids = [self.queue.get()]
                while not self.queue.empty():
                    ids.append(self.queue.get())
                done = None in ids
                if marked := [i for i in ids if i is not None]:
                    cursor.execute(
                        _MARK_SENT, [Delivery.Status.SENT.value, timezone.now(), marked, self.token], prepare=True
                    )
        except BaseException as error:  # handed to flush(), in the batch's thread
            self.error = error
        finally:
            connection.close()

    def flush(self) -> None:
        """Every mark committed (raises what the thread met)."""
        if self.thread is not None and self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        if self.error is not None:
            error, self.error = self.error, None
            raise error


def _send_one(conn: Any, messages: Messages, row_id: int, email: str, token: str) -> bool:
    """Whether the server accepted the address's message; a permanent refusal marks the row
    failed."""
    try:
        smtp = getattr(conn, "connection", None)
        data = messages.bytes_for(row_id, email) if isinstance(smtp, smtplib.SMTP) else None
        if data is not None:
            # Django's SMTP backend's connection, without its per-message parsing of the
            # addresses (checked and lower-cased already) and serializing (done per batch).
            smtp.sendmail(messages.sender, [email], data)  # type: ignore[union-attr]
        else:
            conn.send_messages([messages.for_address(row_id, email)])
    except Exception as exc:
        failure = smtp_failure(exc)
        if not failure.permanent:
            raise failure from exc
        Delivery.objects.filter(pk=row_id, claim=token).update(status=Delivery.Status.FAILED, error=str(failure)[:2000])
        return False
    return True


# The last batch's messages, for the next batch of the same announcement in this worker
# (rendering, inlining and serializing once, not once a batch), for a minute at most.
_LAST: dict[str, Any] = {}


def _messages_of(announcement: Announcement) -> Messages:
    now = time.monotonic()
    if _LAST.get("pk") == announcement.pk and now - _LAST["at"] < 60:
        return _LAST["messages"]
    messages = Messages(announcement, None)
    _LAST.update(pk=announcement.pk, at=now, messages=messages)
    return messages


def _renew(token: str) -> bool:
    renewed = Delivery.objects.filter(claim=token, status=Delivery.Status.CLAIMED).update(
        claimed_until=timezone.now() + lease()
    )
    return bool(renewed)


def announcement_progress(*, announcement_id: int) -> Announcement | None:
    """The counts taken from the rows; sending → sent when none is open. Callers take turns
    (the row locked), so the last to count writes the final counts, and one alone marks it
    sent and records that in the audit trail."""
    with transaction.atomic():
        announcement = (
            Announcement.objects.select_for_update(of=("self",))
            .select_related("release")
            .filter(pk=announcement_id)
            .first()
        )
        if announcement is None:
            return None
        counts = Delivery.objects.filter(announcement_id=announcement_id).aggregate(
            sent=Count("pk", filter=Q(status=Delivery.Status.SENT)),
            failed=Count("pk", filter=Q(status=Delivery.Status.FAILED)),
            open=Count("pk", filter=Q(status__in=OPEN)),
        )
        announcement.sent, announcement.failed = counts["sent"], counts["failed"]
        fields = ["sent", "failed"]
        finished = counts["open"] == 0 and announcement.status == Announcement.Status.SENDING
        if finished:  # under the lock: one caller alone sees it still sending
            announcement.status, announcement.finished_at = Announcement.Status.SENT, timezone.now()
            fields += ["status", "finished_at"]
        announcement.save(update_fields=fields)
        if finished:
            after = {"total": announcement.total, "sent": counts["sent"], "failed": counts["failed"]}
            announcement_audit(announcement, AuditAction.ANNOUNCEMENT_SENT, None, after=after)
    return announcement


def announcements_sweep() -> dict[str, int]:
    """Starts what is due, re-queues batches left open past their lease (a killed worker, a
    lost task), finishes announcements with nothing open. Run periodically (celery beat)."""
    now = timezone.now()
    due = list(
        Announcement.objects.filter(status=Announcement.Status.SCHEDULED, send_at__lte=now).values_list("pk", flat=True)
    )
    started = sum(announcement_start(announcement_id=pk) for pk in due)
    stale = (
        Delivery.objects.filter(announcement__status=Announcement.Status.SENDING, status__in=OPEN)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .values_list("announcement_id", "batch")
        .distinct()
    )
    by_announcement: dict[int, list[int]] = {}
    for announcement_id, batch in stale:
        by_announcement.setdefault(announcement_id, []).append(batch)
    for announcement_id, batches in by_announcement.items():
        _queue_batches(announcement_id, sorted(batches))
    open_rows = Delivery.objects.filter(announcement=OuterRef("pk"), status__in=OPEN)
    finished = Announcement.objects.filter(status=Announcement.Status.SENDING).exclude(Exists(open_rows))
    for pk in finished.values_list("pk", flat=True):
        announcement_progress(announcement_id=pk)
    return {"started": started, "requeued": sum(map(len, by_announcement.values()))}
