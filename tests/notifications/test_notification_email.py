"""The e-mails the outbox sends, as the SMTP receiver gets them."""

import contextlib
import datetime as dt
import os

import pytest
from django.conf import settings
from django.utils import timezone, translation

from notifications.messages import say
from notifications.models import Event, Notification, Preference, Profile
from notifications.services import report_generate, report_request
from notifications.services.delivery import notification_deliver, notifications_due
from notifications.services.digests import digests_compose
from notifications.unsubscribe import unsubscribe_token

pytestmark = pytest.mark.django_db


def _to(message):
    return message["To"]


def test_rejection_mail_names_the_item_the_rejecter_and_the_reason(
    scenario, make_item, contributor, qa, manager, done, smtp_server, deliver_all
):
    item = make_item(title="Load test", assignee=contributor)
    done(item)
    Notification.objects.all().delete()
    scenario.signoff(item, qa, decision="reject", comment="p95 is 900 ms, the limit is 500.")
    deliver_all()
    assert sorted(_to(m) for m in smtp_server.messages) == ["contributor@example.com", "manager@example.com"]
    message = smtp_server.messages[0]
    assert message["Subject"] == "qa rejected “Load test”"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["References"] == f"<release-{item.release_id}@localhost>"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for part in (text, html):
        assert "p95 is 900 ms, the limit is 500." in part
        assert f"/items/{item.pk}/" in part
    assert "<style" not in html
    assert "style=" in html
    assert set(Notification.objects.filter(channel="email").values_list("status", flat=True)) == {"sent"}


def test_czech_user_gets_czech_mail_and_both_parts_say_the_same(
    scenario, make_item, contributor, qa, manager, done, smtp_server, deliver_all
):
    Profile.objects.create(user=contributor, language="cs")
    item = make_item(title="Zátěžový test", assignee=contributor)
    done(item)
    Notification.objects.all().delete()
    scenario.signoff(item, qa, decision="reject", comment="Chybí výsledky.")
    deliver_all()
    czech = next(m for m in smtp_server.messages if _to(m) == "contributor@example.com")
    english = next(m for m in smtp_server.messages if _to(m) == "manager@example.com")
    assert czech["Subject"] == "qa zamítl(a) „Zátěžový test“"
    assert english["Subject"] == "qa rejected “Zátěžový test”"
    text = czech.get_body(("plain",)).get_content()
    html = czech.get_body(("html",)).get_content()
    for expected in ("qa zamítl(a) „Zátěžový test“", "Chybí výsledky.", "Otevřít položku"):
        assert expected in text
        assert expected in html.replace("&#8222;", "„").replace("&#8220;", "“")


def test_task_run_twice_sends_once(scenario, make_item, contributor, qa, done, smtp_server):
    from notifications.tasks import notification_deliver as task

    item = make_item(assignee=contributor)
    done(item)
    row = Notification.objects.get(channel="email", event=Event.ITEM_AWAITING_SIGNOFF, user=qa)
    task.apply(args=(row.pk,))
    task.apply(args=(row.pk,))
    assert [_to(m) for m in smtp_server.messages] == ["qa@example.com"]


def test_smtp_down_is_retried_and_delivered_when_it_returns(
    scenario, make_item, contributor, qa, done, smtp_server, settings
):
    item = make_item(assignee=contributor)
    done(item)
    row = Notification.objects.get(channel="email", user=qa)
    settings.EMAIL_PORT = 9  # nothing listens there: connection refused
    outcome = notification_deliver(notification_id=row.pk)
    row.refresh_from_db()
    assert outcome.retry_in
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.last_error
    assert row.next_attempt_at > row.created_at
    settings.EMAIL_PORT = smtp_server.port
    Notification.objects.filter(pk=row.pk).update(next_attempt_at=row.created_at)  # its time has come
    assert notification_deliver(notification_id=row.pk).sent
    row.refresh_from_db()
    assert row.status == "sent"
    assert [_to(m) for m in smtp_server.messages] == ["qa@example.com"]


def test_permanent_refusal_ends_failed_and_is_not_retried(scenario, release, manager, smtp_server):
    scenario.update(release, by=manager, stakeholder_emails=["nobody@bounce.example.com"])
    from releases.services import release_transition

    release_transition(release=release, actor=manager, to="cancelled", reason="Postponed.")
    row = Notification.objects.get(address="nobody@bounce.example.com")
    notification_deliver(notification_id=row.pk)
    row.refresh_from_db()
    assert row.status == "failed"
    assert "550" in row.last_error
    assert not notification_deliver(notification_id=row.pk).sent
    assert smtp_server.messages == []


def test_digest_user_gets_one_digest_and_no_immediate_mail(
    scenario, make_item, contributor, qa, qa2, done, smtp_server, deliver_all
):
    Preference.objects.create(user=qa2, event=Event.ITEM_AWAITING_SIGNOFF, mode="digest")
    items = [make_item(title=title, assignee=contributor, role="QA") for title in ("Backups", "Runbook")]
    Notification.objects.all().delete()  # the assignments' mail to the contributor
    for item in items:
        done(item)
    deliver_all()
    assert sorted(_to(m) for m in smtp_server.messages) == ["qa@example.com", "qa@example.com"]
    smtp_server.messages.clear()
    digests_compose()
    digests_compose()  # a second run the same day makes no second digest
    deliver_all()
    assert [_to(m) for m in smtp_server.messages] == ["qa2@example.com"]
    digest = smtp_server.messages[0]
    text = digest.get_body(("plain",)).get_content()
    assert "Backups" in text
    assert "Runbook" in text
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert str(digest["List-Unsubscribe"]).strip().startswith("<http://127.0.0.1:8000/unsubscribe/")
    smtp_server.messages.clear()
    assert digests_compose() == []  # nothing waits: no empty digest


def test_digest_unsubscribe_link_turns_digested_events_off(client, scenario, qa2, smtp_server):
    from notifications.unsubscribe import unsubscribe_token

    Preference.objects.create(user=qa2, event=Event.ITEM_AWAITING_SIGNOFF, mode="digest")
    url = f"/unsubscribe/{unsubscribe_token('digest', str(qa2.pk))}/"
    assert client.get(url).status_code == 200
    assert Preference.objects.get(user=qa2).mode == "digest"  # a GET (a link scanner) changes nothing
    assert client.post(url).status_code == 200
    assert Preference.objects.get(user=qa2).mode == "off"
    assert client.post("/unsubscribe/forged/").status_code == 404


def test_failed_delivery_is_shown_to_the_release_managers_only(
    client, scenario, release, manager, contributor, project
):
    scenario.update(release, by=manager, stakeholder_emails=["nobody@bounce.example.com"])
    from notifications.models import Notification as Row
    from releases.services import release_transition

    release_transition(release=release, actor=manager, to="cancelled", reason="Postponed.")
    Row.objects.filter(address="nobody@bounce.example.com").update(status="failed", last_error="550 No such user")
    client.force_login(manager)
    page = client.get(f"/releases/{release.pk}/").content.decode()
    assert "Notifications that could not be delivered" in page
    assert "nobody@bounce.example.com" in page
    assert "550 No such user" in page
    client.force_login(contributor)
    page = client.get(f"/releases/{release.pk}/").content.decode()
    assert "Notifications that could not be delivered" not in page
    assert "550 No such user" not in page


def test_mail_whose_report_pdf_is_gone_ends_failed_not_sending_forever(
    media, ready_release, manager, project, scenario
):
    watcher = scenario.join(project, scenario.person("watcher"))
    scenario.update(ready_release, by=manager, stakeholders=[watcher])
    report = report_generate(report_id=report_request(release=ready_release, actor=manager, email_stakeholders=True).pk)
    os.remove(report.pdf.path)  # storage cleaned up / lost
    row = Notification.objects.get(channel="email", user=watcher, event=Event.REPORT_READY)
    for _ in range(settings.NOTIFICATION_MAX_ATTEMPTS + 2):
        with contextlib.suppress(Exception):
            notification_deliver(notification_id=row.pk)
        # the lease runs out or the back-off ends: the sweeper hands it out again
        moment = timezone.now() - dt.timedelta(seconds=1)
        Notification.objects.filter(pk=row.pk).update(claimed_until=moment, next_attempt_at=moment)
    row.refresh_from_db()
    assert (row.status, row.attempts <= settings.NOTIFICATION_MAX_ATTEMPTS) == ("failed", True), (
        row.status,
        row.attempts,
        row.pk in notifications_due(),
    )


def test_after_one_click_unsubscribe_no_digest_comes(
    client, scenario, make_item, contributor, qa2, done, smtp_server, deliver_all
):
    Preference.objects.create(user=qa2, event=Event.ITEM_AWAITING_SIGNOFF, mode="digest")
    done(make_item(assignee=contributor, role="QA"))
    assert Notification.objects.filter(user=qa2, status="in_digest").exists()
    assert client.post(f"/unsubscribe/{unsubscribe_token('digest', str(qa2.pk))}/").status_code == 200
    digests_compose()
    deliver_all()
    assert "qa2@example.com" not in [_to(m) for m in smtp_server.messages]


def test_deactivated_user_gets_no_digest(scenario, make_item, contributor, qa2, done, smtp_server, deliver_all):
    Preference.objects.create(user=qa2, event=Event.ITEM_AWAITING_SIGNOFF, mode="digest")
    done(make_item(assignee=contributor, role="QA", title="Rotate the payment keys"))
    qa2.is_active = False
    qa2.save()
    digests_compose()
    deliver_all()
    assert "qa2@example.com" not in [_to(m) for m in smtp_server.messages]


def test_previous_go_live_in_the_readers_time_zone():
    context = {
        "release": "Billing",
        "version": "2.0",
        "project": "Billing",
        "release_id": 1,
        "go_live_at": "2030-01-02T15:00:00+00:00",
        "previous_go_live_at": "2030-01-01T15:00:00+00:00",
    }
    with translation.override("en"):
        said = say(Event.RELEASE_GO_LIVE, context, time_zone="America/New_York")
    before = next(line for line in said.lines if line.startswith("Before"))
    assert "(EST)" in before, said.lines


def test_smtp_send_is_bounded_by_less_than_the_lease():
    from django.core.mail import get_connection

    backend = get_connection("django.core.mail.backends.smtp.EmailBackend")
    assert backend.timeout is not None
    assert backend.timeout < settings.NOTIFICATION_LEASE_SECONDS


def test_czech_mail_html_says_it_is_czech(
    scenario, make_item, contributor, qa, manager, done, smtp_server, deliver_all
):
    Profile.objects.create(user=contributor, language="cs")
    item = make_item(title="Zátěžový test", assignee=contributor)
    done(item)
    Notification.objects.all().delete()
    scenario.signoff(item, qa, decision="reject", comment="Chybí výsledky.")
    deliver_all()
    czech = next(m for m in smtp_server.messages if _to(m) == "contributor@example.com")
    assert '<html lang="cs"' in czech.get_body(("html",)).get_content()


def test_report_for_a_digest_user_still_arrives_with_its_pdf(
    media, ready_release, manager, project, scenario, smtp_server, deliver_all
):
    watcher = scenario.join(project, scenario.person("watcher"))
    scenario.update(ready_release, by=manager, stakeholders=[watcher])
    Preference.objects.create(user=watcher, event=Event.REPORT_READY, mode="digest")
    report_generate(report_id=report_request(release=ready_release, actor=manager, email_stakeholders=True).pk)
    deliver_all()
    digests_compose()
    deliver_all()
    mails = [m for m in smtp_server.messages if _to(m) == "watcher@example.com"]
    assert mails
    assert any(part.get_content_type() == "application/pdf" for m in mails for part in m.iter_attachments()), [
        m.get_body(("plain",)).get_content() for m in mails
    ]
