"""Announcements sent for real: a Celery worker on Redis sends to an SMTP receiver, in
batches, each address once; a worker killed in the middle of an announcement leaves no
address out and none twice once another worker and the sweeper have run."""

import datetime as dt
from collections import Counter

import pytest
from django.utils import timezone

from notifications.models import Announcement, AnnouncementDelivery
from notifications.services.announcement_sending import announcements_sweep
from notifications.services.announcements import announcement_create
from notifications.services.audiences import audience_create

from .conftest import GatedInbox, gated_smtp_receiver, start_pinged_worker, stop_worker, wait_for, worker_env


def _announce(release, manager, audience, **kwargs):
    return announcement_create(
        release=release, actor=manager, audience=audience, kind="downtime",
        subject="Odstávka {release}", body="{release} {version}: od {window_start}.", **kwargs,
    )  # fmt: skip


def _finished(pk):
    return Announcement.objects.filter(pk=pk, status=Announcement.Status.SENT).first()


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_each_address_one_czech_message_over_smtp(release, manager, start_mail_worker, smtp_server):
    addresses = [f"zakaznik{n}@example.cz" for n in range(30)]
    audience = audience_create(
        actor=manager, name="Zákazníci", project=release.project, language="cs", addresses=addresses
    )
    start_mail_worker(ANNOUNCEMENT_BATCH_SIZE=7)
    announcement = _announce(release, manager, audience)
    done = wait_for(lambda: _finished(announcement.pk), timeout=60, what="the announcement to be sent")
    assert (done.sent, done.total, done.failed) == (30, 30, 0)
    got = Counter(message["To"] for message in smtp_server.messages)
    assert got == Counter(addresses)
    message = smtp_server.messages[0]
    assert message["Subject"] == "Odstávka Billing"
    assert message["List-Unsubscribe"].strip().startswith("<https://shipcheck.example.com/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    assert "Billing 2.0: od " in text
    assert "https://shipcheck.example.com/unsubscribe/" in text


@pytest.mark.django_db(transaction=True)
def test_a_later_send_at_is_picked_up_by_the_sweeper_when_the_queue_lost_it(
    release, manager, start_mail_worker, smtp_server
):
    audience = audience_create(actor=manager, name="Few", project=release.project, addresses=["a@x.com", "b@x.com"])
    announcement = _announce(release, manager, audience, send_at=timezone.now() + dt.timedelta(days=1))
    Announcement.objects.filter(pk=announcement.pk).update(send_at=timezone.now() - dt.timedelta(seconds=1))
    start_mail_worker()
    assert announcements_sweep()["started"] == 1
    wait_for(lambda: _finished(announcement.pk), timeout=60, what="the announcement to be sent")
    assert sorted(message["To"] for message in smtp_server.messages) == ["a@x.com", "b@x.com"]


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_announcement_leaves_every_address_sent_exactly_once(release, manager, own_queue):
    """2,000 addresses in batches of 200, a lease of 5 s. The receiver holds the 700th message
    unanswered (not accepted) and the worker is killed with SIGKILL while it waits for the
    reply; a new worker starts, and the sweeper (called here, as beat would) gives the batch
    whose lease ran out to it. Every address gets one message, within two minutes."""
    addresses = [f"user{n:04d}@example.com" for n in range(2000)]
    audience = audience_create(actor=manager, name="Everyone", project=release.project, addresses=addresses)
    inbox = GatedInbox(hold_at=700)
    with gated_smtp_receiver(inbox) as port:
        env = worker_env(
            queue=own_queue, email_port=port, ANNOUNCEMENT_LEASE_SECONDS=5, EMAIL_TIMEOUT=2, ANNOUNCEMENT_BATCH_SIZE=200
        )
        first = start_pinged_worker(env, name="doomed")
        try:
            announcement = _announce(release, manager, audience)
            wait_for(inbox.holding.is_set, timeout=60, what="the 700th message")
            stop_worker(first, kill=True)
        finally:
            inbox.release.set()
            stop_worker(first, kill=True)
        sent_before = AnnouncementDelivery.objects.filter(status="sent").count()
        assert 600 <= sent_before < 2000  # killed in the middle
        second = start_pinged_worker(env, name="after")
        try:

            def done():
                announcements_sweep()
                return _finished(announcement.pk)

            finished = wait_for(done, timeout=120, what="every address to be sent after the restart")
        finally:
            stop_worker(second)
    assert (finished.sent, finished.total, finished.failed) == (2000, 2000, 0)
    counts = Counter(inbox.recipients)
    assert set(counts) == set(addresses)
    assert [address for address, n in counts.items() if n != 1] == []
    assert len({message_id for _, message_id in inbox.message_ids}) == 2000
