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

import copy
import datetime as dt
import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import EmailAlternative
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from ..mail import TransportError, build_email, smtp_failure
from ..models import Announcement, AnnouncementDelivery
from ..unsubscribe import unsubscribe_url
from .announcements import announcement_render

log = logging.getLogger(__name__)

Delivery = AnnouncementDelivery
OPEN = (Delivery.Status.PENDING, Delivery.Status.CLAIMED)
MAX_ATTEMPTS = 10
RENEW_EVERY = 50  # messages between renewals of the lease (and progress counts)


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
        started = Announcement.objects.filter(
            pk=announcement_id, status=Announcement.Status.SCHEDULED, send_at__lte=now
        ).update(status=Announcement.Status.SENDING, started_at=now)
        if not started:
            return False
        audience_id = Announcement.objects.filter(pk=announcement_id).values_list("audience_id", flat=True).get()
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


class _Messages:
    """Each address's message. The three templates are rendered and the CSS inlined once per
    batch (with a stand-in for the unsubscribe link), then copied per address with its own
    link, recipient and Message-ID: rendering them per address would cost more than the SMTP
    exchange itself."""

    STAND_IN = "https://unsubscribe.invalid/stand-in/"

    def __init__(self, announcement: Announcement, conn: Any) -> None:
        subject, body = announcement_render(announcement)
        self.announcement = announcement
        self.proto = build_email(
            template="announcement",
            context={
                "subject": subject,
                "body": body,
                "audience_name": announcement.audience.name if announcement.audience else "",
                "unsubscribe_url": self.STAND_IN,
            },
            to=["stand-in@invalid"],
            language=announcement.language,
            unsubscribe_url=self.STAND_IN,
            connection=conn,
        )
        self.domain = self.proto.extra_headers["Message-ID"].rpartition("@")[2].rstrip(">")

    def for_address(self, row_id: int, email: str) -> EmailMultiAlternatives:
        link = unsubscribe_url("audience", f"{self.announcement.audience_id}:{email}")
        message = copy.copy(self.proto)
        message.to = [email]
        message.body = self.proto.body.replace(self.STAND_IN, link)
        message.alternatives = [
            EmailAlternative(str(content).replace(self.STAND_IN, link), mimetype)
            for content, mimetype in self.proto.alternatives
        ]
        message.extra_headers = {
            **self.proto.extra_headers,
            "List-Unsubscribe": f"<{link}>",
            # One per delivery row: a copy sent again after a crash is recognisably the same.
            "Message-ID": f"<announcement-{self.announcement.pk}.{row_id}@{self.domain}>",
        }
        return message


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
    try:
        _commit_without_waiting_for_disk()
        messages = _Messages(announcement, conn)
        conn.open()
        for index, (row_id, email) in enumerate(rows):
            if index and index % RENEW_EVERY == 0 and not _renew(announcement_id, token):
                break  # the lease was lost (and taken by another worker): stop here
            sent += _send_one(conn, messages.for_address(row_id, email), row_id, token)
    except TransportError:
        _give_back(token)
        raise
    except Exception as exc:
        _give_back(token)
        raise smtp_failure(exc) from exc
    finally:
        conn.close()
        announcement_progress(announcement_id=announcement_id)
        _commit_without_waiting_for_disk(reset=True)
    return sent


def _commit_without_waiting_for_disk(*, reset: bool = False) -> None:
    """Each address is marked sent in its own commit, right after the server's acceptance;
    waiting for each commit to reach the disk (an fsync, milliseconds) would cost more than
    the SMTP exchange. Without the wait, a commit is at once final for every other session
    (a worker killed next loses nothing); only a crash of PostgreSQL itself may lose the last
    fraction of a second of marks, whose addresses would then be sent again."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit" if reset else "SET synchronous_commit TO off")


def _send_one(conn: Any, message: EmailMultiAlternatives, row_id: int, token: str) -> int:
    try:
        conn.send_messages([message])
    except Exception as exc:
        failure = smtp_failure(exc)
        if not failure.permanent:
            raise failure from exc
        Delivery.objects.filter(pk=row_id, claim=token).update(status=Delivery.Status.FAILED, error=str(failure)[:2000])
        return 0
    Delivery.objects.filter(pk=row_id, claim=token).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), claim=""
    )
    return 1


def _renew(announcement_id: int, token: str) -> bool:
    renewed = Delivery.objects.filter(claim=token, status=Delivery.Status.CLAIMED).update(
        claimed_until=timezone.now() + lease()
    )
    announcement_progress(announcement_id=announcement_id)
    return bool(renewed)


def announcement_progress(*, announcement_id: int) -> Announcement | None:
    """The counts taken from the rows; sending → sent when none is open."""
    counts = Delivery.objects.filter(announcement_id=announcement_id).aggregate(
        sent=Count("pk", filter=Q(status=Delivery.Status.SENT)),
        failed=Count("pk", filter=Q(status=Delivery.Status.FAILED)),
        open=Count("pk", filter=Q(status__in=OPEN)),
    )
    Announcement.objects.filter(pk=announcement_id).update(sent=counts["sent"], failed=counts["failed"])
    if counts["open"] == 0:
        Announcement.objects.filter(pk=announcement_id, status=Announcement.Status.SENDING).update(
            status=Announcement.Status.SENT, finished_at=timezone.now()
        )
    return Announcement.objects.filter(pk=announcement_id).first()


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
