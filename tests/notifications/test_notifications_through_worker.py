"""The outbox delivered by a real Celery worker through Redis to a real SMTP receiver."""

from collections import Counter

import pytest

from notifications.models import Event, Notification, Preference
from notifications.tasks import digests_send

from .conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _all_sent():
    return not Notification.objects.filter(channel="email", status__in=["pending", "sending"]).exists()


def _recipients(smtp_server):
    with smtp_server.lock:
        return Counter(m["To"] for m in smtp_server.messages)


def test_rejection_mails_the_assignee_and_each_manager_once_and_not_the_rejecter(
    celery_worker, smtp_server, scenario, make_item, contributor, qa, manager, done
):
    item = make_item(title="Penetration test", assignee=contributor)
    done(item)
    wait_for(_all_sent)
    smtp_server.messages.clear()

    scenario.signoff(item, qa, decision="reject", comment="Two high findings open.")

    wait_for(_all_sent)
    wait_for(lambda: sum(_recipients(smtp_server).values()) >= 2, what="the SMTP receiver")
    assert _recipients(smtp_server) == {"contributor@example.com": 1, "manager@example.com": 1}
    assert all("rejected" in m["Subject"] for m in smtp_server.messages)


def test_item_done_mails_each_eligible_approver_once(
    celery_worker, smtp_server, scenario, make_item, contributor, qa, qa2, security, done
):
    item = make_item(assignee=contributor, role="QA")
    wait_for(_all_sent)
    smtp_server.messages.clear()

    done(item)

    wait_for(_all_sent)
    wait_for(lambda: sum(_recipients(smtp_server).values()) >= 2, what="the SMTP receiver")
    assert _recipients(smtp_server) == {"qa@example.com": 1, "qa2@example.com": 1}


def test_digest_user_gets_one_digest_and_no_immediate_mail(
    celery_worker, smtp_server, scenario, make_item, contributor, qa, qa2, done
):
    Preference.objects.create(user=qa2, event=Event.ITEM_AWAITING_SIGNOFF, mode="digest")
    items = [make_item(title=title, assignee=contributor, role="QA") for title in ("Backups", "Runbook")]
    wait_for(_all_sent)
    smtp_server.messages.clear()
    for item in items:
        done(item)
    wait_for(_all_sent)

    digests_send.delay()
    wait_for(lambda: Notification.objects.filter(event=Event.DIGEST, status="sent").exists())

    assert _recipients(smtp_server) == {"qa@example.com": 2, "qa2@example.com": 1}
    digest = next(m for m in smtp_server.messages if m["To"] == "qa2@example.com")
    assert "2" in digest["Subject"]
