"""Announcements of a release to an audience: made by the release's managers, placeholders
rendered in the audience's language, previewed without a write, sent now or at a time,
cancelled while scheduled; read back with their progress."""

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone

from config.domain import Conflict, Forbidden, Invalid
from notifications.models import Announcement, AnnouncementDelivery
from notifications.services.announcement_sending import announcement_send_batch, announcement_start
from notifications.services.announcements import announcement_cancel, announcement_create, announcement_preview
from notifications.services.audiences import audience_create
from releases import services
from releases.models import AuditEvent

pytestmark = pytest.mark.django_db

API = "/api/v1"
BODY = "{release} {version} goes live on {go_live}; downtime {window_start} – {window_end}."


@pytest.fixture
def windowed(release):
    """The release going live on 5 Dec 2026 at 21:00 UTC, its window ending at 23:30."""
    release.go_live_at = dt.datetime(2026, 12, 5, 21, 0, tzinfo=dt.UTC)
    release.window_end_at = dt.datetime(2026, 12, 5, 23, 30, tzinfo=dt.UTC)
    release.save(update_fields=["go_live_at", "window_end_at"])
    return release


def _create(release, manager, audience, **kwargs):
    return announcement_create(
        release=release, actor=manager, audience=audience, kind=kwargs.pop("kind", "downtime"),
        subject=kwargs.pop("subject", "{release} maintenance"), body=kwargs.pop("body", BODY), **kwargs,
    )  # fmt: skip


def test_preview_renders_the_placeholders_in_czech_and_writes_nothing(windowed, manager, czech_audience):
    shown = announcement_preview(
        release=windowed,
        actor=manager,
        audience=czech_audience,
        kind="downtime",
        subject="Odstávka {release}",
        body=BODY,
    )
    assert shown["subject"] == "Odstávka Billing"
    start, end = "5. prosince 2026 21:00 UTC", "5. prosince 2026 23:30 UTC"
    assert shown["body"] == f"Billing 2.0 goes live on {start}; downtime {start} – {end}."
    assert shown["recipients"] == 1
    assert not Announcement.objects.exists()


def test_placeholders_in_english_use_english_dates(windowed, manager, audience):
    shown = announcement_preview(
        release=windowed, actor=manager, audience=audience, kind="released", subject="x", body="{go_live}"
    )
    assert shown["body"] == "Dec. 5, 2026, 9 p.m. UTC"


def test_an_unknown_placeholder_is_a_field_error(windowed, manager, audience):
    with pytest.raises(Invalid) as refused:
        _create(windowed, manager, audience, body="Hello {customer}, {release} is out.")
    assert refused.value.fields["body"] == [
        "Unknown placeholder {customer}; use {release} {version} {go_live} {window_start} {window_end}."
    ]
    assert not Announcement.objects.exists()


def test_a_send_at_in_the_past_or_none_is_now(windowed, manager, audience):
    before = timezone.now()
    past = _create(windowed, manager, audience, send_at=before - dt.timedelta(days=1))
    none = _create(windowed, manager, audience)
    later = _create(windowed, manager, audience, send_at=before + dt.timedelta(days=1))
    assert before <= past.send_at <= timezone.now()
    assert before <= none.send_at <= timezone.now()
    assert later.send_at == before + dt.timedelta(days=1)
    assert {a.status for a in (past, none, later)} == {"scheduled"}


def test_only_the_release_managers_announce(windowed, manager, audience, qa):
    with pytest.raises(Forbidden):
        _create(windowed, qa, audience)


def test_an_audience_of_another_project_is_refused(windowed, manager, scenario, staff):
    other = scenario.project("Shop", "shop", admins=[manager])
    foreign = audience_create(actor=manager, name="Shop customers", project=other, addresses=["a@x.com"])
    with pytest.raises(Invalid) as refused:
        _create(windowed, manager, foreign)
    assert "audience" in refused.value.fields
    glob = audience_create(actor=staff, name="Everyone", addresses=["a@x.com"])
    assert _create(windowed, manager, glob).audience == glob


def test_cancel_only_while_scheduled(windowed, manager, audience):
    announcement = _create(windowed, manager, audience, send_at=timezone.now() + dt.timedelta(hours=1))
    assert announcement_cancel(announcement=announcement, actor=manager).status == "cancelled"
    with pytest.raises(Conflict):
        announcement_cancel(announcement=announcement, actor=manager)
    assert announcement_start(announcement_id=announcement.pk) is False


def test_sending_gives_each_subscribed_address_one_message_with_an_unsubscribe_link(windowed, manager, czech_audience):
    czech_audience.members.create(email="petr@example.cz")
    czech_audience.members.create(email="gone@example.cz", unsubscribed_at=timezone.now())
    announcement = _create(windowed, manager, czech_audience, subject="Odstávka {release}", body="Od {window_start}.")
    assert announcement_start(announcement_id=announcement.pk) is True
    assert announcement_start(announcement_id=announcement.pk) is False  # once
    assert announcement_send_batch(announcement_id=announcement.pk, batch=0) == 2
    assert announcement_send_batch(announcement_id=announcement.pk, batch=0) == 0  # nothing twice
    assert sorted(m.to[0] for m in mail.outbox) == ["jana@example.cz", "petr@example.cz"]
    message = mail.outbox[0]
    assert message.subject == "Odstávka Billing"
    assert "Od 5. prosince 2026 21:00 UTC." in message.body
    assert "/unsubscribe/" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = message.alternatives[0].content
    assert "/unsubscribe/" in html
    assert "stand-in" not in html
    assert "stand-in" not in message.body
    announcement.refresh_from_db()
    assert (announcement.status, announcement.sent, announcement.total) == ("sent", 2, 2)


def test_an_unsubscribed_address_is_not_sent_the_next_time(client, windowed, manager, audience):
    first = _create(windowed, manager, audience)
    announcement_start(announcement_id=first.pk)
    announcement_send_batch(announcement_id=first.pk, batch=0)
    link = next(m for m in mail.outbox if m.to == ["bob@example.com"]).extra_headers["List-Unsubscribe"].strip("<>")
    assert client.post(urlsplit(link).path).status_code == 200  # the mail client's one-click POST
    mail.outbox.clear()
    second = _create(windowed, manager, audience)
    announcement_start(announcement_id=second.pk)
    announcement_send_batch(announcement_id=second.pk, batch=0)
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]


def test_a_permanent_refusal_fails_that_address_and_the_rest_go_on(windowed, manager, audience, settings):
    import smtplib

    from django.core.mail.backends.locmem import EmailBackend

    class Refusing(EmailBackend):
        def send_messages(self, messages):
            if messages[0].to == ["ann@example.com"]:
                raise smtplib.SMTPRecipientsRefused({"ann@example.com": (550, b"no such user")})
            return super().send_messages(messages)

    settings.EMAIL_BACKEND = f"{__name__}.Refusing"
    globals()["Refusing"] = Refusing
    announcement = _create(windowed, manager, audience)
    announcement_start(announcement_id=announcement.pk)
    assert announcement_send_batch(announcement_id=announcement.pk, batch=0) == 1
    rows = dict(AnnouncementDelivery.objects.values_list("email", "status"))
    assert rows == {"ann@example.com": "failed", "bob@example.com": "sent"}
    announcement.refresh_from_db()
    assert (announcement.status, announcement.sent, announcement.failed) == ("sent", 1, 1)


# --- API ----------------------------------------------------------------------------------


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def test_api_creates_and_reads_an_announcement(api, windowed, manager, audience):
    later = (timezone.now() + dt.timedelta(days=1)).isoformat()
    response = api(manager).post(
        f"{API}/releases/{windowed.pk}/announcements/",
        {"audience": audience.pk, "kind": "downtime", "subject": "{release}", "body": BODY, "send_at": later},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["sent"], body["total"], body["audience"]) == ("scheduled", 0, 0, audience.pk)
    assert api(manager).get(f"{API}/announcements/{body['id']}/").json()["subject"] == "{release}"
    listed = api(manager).get(f"{API}/releases/{windowed.pk}/announcements/").json()["results"]
    assert [a["id"] for a in listed] == [body["id"]]


def test_api_unknown_placeholder_is_a_400_on_the_field(api, windowed, manager, audience):
    response = api(manager).post(
        f"{API}/releases/{windowed.pk}/announcements/",
        {"audience": audience.pk, "kind": "released", "subject": "Hi {name}", "body": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["subject"]


def test_an_outsider_gets_404_for_announcements(api, windowed, manager, audience, outsider):
    announcement = _create(windowed, manager, audience)
    client = api(outsider)
    assert client.get(f"{API}/announcements/{announcement.pk}/").status_code == 404
    assert client.get(f"{API}/releases/{windowed.pk}/announcements/").status_code == 404
    posted = client.post(
        f"{API}/releases/{windowed.pk}/announcements/",
        {"audience": audience.pk, "kind": "released", "subject": "x", "body": "y"},
        format="json",
    )
    assert posted.status_code == 404
    assert Announcement.objects.count() == 1


def test_a_project_member_reads_announcements_but_may_not_make_one(api, windowed, manager, audience, contributor):
    announcement = _create(windowed, manager, audience)
    client = api(contributor)
    assert client.get(f"{API}/announcements/{announcement.pk}/").status_code == 200
    posted = client.post(
        f"{API}/releases/{windowed.pk}/announcements/",
        {"audience": audience.pk, "kind": "released", "subject": "x", "body": "y"},
        format="json",
    )
    assert posted.status_code == 403


# --- pages ----------------------------------------------------------------------------------


def test_composer_previews_in_the_audiences_language_then_schedules(client, windowed, manager, czech_audience):
    client.force_login(manager)
    assert f"/releases/{windowed.pk}/announce/" in client.get(f"/releases/{windowed.pk}/").content.decode()
    form = {"audience": czech_audience.pk, "kind": "downtime", "subject": "Odstávka {release}", "body": "Od {go_live}."}
    preview = client.post(f"/releases/{windowed.pk}/announce/", {**form, "preview": "1"}).content.decode()
    assert "Odstávka Billing" in preview
    assert "Od 5. prosince 2026 21:00 UTC." in preview
    assert not Announcement.objects.exists()
    response = client.post(f"/releases/{windowed.pk}/announce/", {**form, "send": "1"})
    announcement = Announcement.objects.get()
    assert response["Location"] == f"/announcements/{announcement.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "<h1>Odstávka Billing</h1>" in page  # as the addresses get it, not the placeholders
    assert "to 1 address" in page
    assert 'hx-trigger="every 2s"' in page


def test_composer_shows_an_unknown_placeholder_on_the_form(client, windowed, manager, audience):
    client.force_login(manager)
    response = client.post(
        f"/releases/{windowed.pk}/announce/",
        {"audience": audience.pk, "kind": "downtime", "subject": "x", "body": "{nope}", "send": "1"},
    )
    assert response.status_code == 400
    assert "Unknown placeholder {nope}" in response.content.decode()


def test_an_outsider_gets_404_for_the_announcement_pages(client, windowed, manager, audience, outsider, contributor):
    announcement = _create(windowed, manager, audience)
    client.force_login(outsider)
    assert client.get(f"/releases/{windowed.pk}/announce/").status_code == 404
    assert client.get(f"/announcements/{announcement.pk}/").status_code == 404
    assert client.get(f"/announcements/{announcement.pk}/progress/").status_code == 404
    assert client.post(f"/announcements/{announcement.pk}/cancel/").status_code == 404
    client.force_login(contributor)
    assert client.get(f"/releases/{windowed.pk}/announce/").status_code == 403
    assert f"/releases/{windowed.pk}/announce/" not in client.get(f"/releases/{windowed.pk}/").content.decode()


def test_each_address_gets_the_link_unsubscribe_url_makes_for_it(windowed, manager, audience):
    from notifications.services.announcement_messages import Messages as _Messages
    from notifications.unsubscribe import unsubscribe_read

    announcement = _create(windowed, manager, audience)
    message = _Messages(announcement, None).for_address(1, "ann@example.com")
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert link.startswith("http://127.0.0.1:8000/unsubscribe/")
    assert unsubscribe_read(urlsplit(link).path.split("/")[2]) == ("audience", f"{audience.pk}:ann@example.com")
    raw = message.message().as_bytes(linesep="\r\n")
    assert raw.count(link.encode()) == 3  # the header, the text and the HTML
    assert b"To: ann@example.com\r\n" in raw
    assert b"stand-in" not in raw
    assert b"__token__" not in raw


def test_the_announcement_page_polls_its_progress_while_sending(client, windowed, manager, audience, contributor):
    announcement = _create(windowed, manager, audience)
    announcement_start(announcement_id=announcement.pk)
    Announcement.objects.filter(pk=announcement.pk).update(sent=1)
    client.force_login(contributor)  # a project member sees it
    fragment = client.get(f"/announcements/{announcement.pk}/progress/").content.decode()
    assert "1 of 2 delivered" in fragment
    assert 'hx-trigger="every 2s"' in fragment
    assert "Cancel announcement" not in client.get(f"/announcements/{announcement.pk}/").content.decode()
    announcement_send_batch(announcement_id=announcement.pk, batch=0)
    done = client.get(f"/announcements/{announcement.pk}/progress/").content.decode()
    assert "2 of 2 delivered" in done
    assert "hx-trigger" not in done  # finished: no more polling


def test_a_cancelled_or_rolled_back_release_announces_nothing_and_a_completed_one_only_its_release(
    client, windowed, manager, audience
):
    client.force_login(manager)
    services.release_transition(release=windowed, actor=manager, to="cancelled", reason="Dropped")
    windowed.refresh_from_db()
    with pytest.raises(Conflict) as refused:
        _create(windowed, manager, audience, kind="released")
    assert refused.value.code == "release_closed"
    assert f"/releases/{windowed.pk}/announce/" not in client.get(f"/releases/{windowed.pk}/").content.decode()
    response = client.get(f"/releases/{windowed.pk}/announce/", follow=True)
    assert response.redirect_chain == [(f"/releases/{windowed.pk}/", 302)]
    assert "The release is cancelled: it has nothing to announce." in response.content.decode()
    windowed.state = "completed"  # as if it had gone live and been completed
    windowed.save(update_fields=["state"])
    with pytest.raises(Invalid) as refused:
        _create(windowed, manager, audience, kind="downtime")
    assert refused.value.fields["kind"] == ["The release is completed: announce only that it was released."]
    assert _create(windowed, manager, audience, kind="released").kind == "released"
    form = client.get(f"/releases/{windowed.pk}/announce/").content.decode()
    assert 'value="released"' in form
    assert 'value="downtime"' not in form
    assert not Announcement.objects.filter(kind="downtime").exists()


def test_a_downtime_scheduled_before_its_release_was_cancelled_is_not_sent(windowed, manager, audience):
    announcement = _create(windowed, manager, audience, send_at=timezone.now() + dt.timedelta(seconds=1))
    services.release_transition(release=windowed, actor=manager, to="cancelled", reason="Dropped")
    Announcement.objects.filter(pk=announcement.pk).update(send_at=timezone.now())  # its time has come
    assert announcement_start(announcement_id=announcement.pk) is False
    announcement.refresh_from_db()
    assert announcement.status == "cancelled"
    assert not AnnouncementDelivery.objects.filter(announcement=announcement).exists()
    assert mail.outbox == []
    event = AuditEvent.objects.get(action="announcement.cancelled")
    assert (event.actor_name, event.after) == ("system", {"status": "cancelled", "release_state": "cancelled"})


def test_the_page_of_a_sent_announcement_says_how_many_were_delivered_and_when(client, windowed, manager, audience):
    announcement = _create(windowed, manager, audience, subject="{release} {version} maintenance")
    announcement_start(announcement_id=announcement.pk)
    announcement_send_batch(announcement_id=announcement.pk, batch=0)
    client.force_login(manager)
    page = client.get(f"/announcements/{announcement.pk}/").content.decode()
    n = audience.members.count()
    assert f"{n} of {n} delivered" in page
    assert "Sent at" in page
    assert "Send at" not in page
    assert "<h1>Billing 2.0 maintenance</h1>" in page
