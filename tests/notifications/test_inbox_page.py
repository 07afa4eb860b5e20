"""The inbox and preferences pages, and the unread count in the navigation."""

import pytest

from notifications.models import Notification, Preference

pytestmark = pytest.mark.django_db


@pytest.fixture
def told(scenario, make_item, contributor, qa, qa2, done):
    for title in ("Backups", "Runbook"):
        done(make_item(title=title, assignee=contributor, role="QA"))


def test_inbox_shows_what_i_was_told_and_the_unread_count(client, told, qa):
    client.force_login(qa)
    page = client.get("/inbox/").content.decode()
    assert "“Backups” waits for sign-off by QA" in page
    assert "“Runbook” waits for sign-off by QA" in page
    assert 'class="badge" aria-label="2 unread">2</span>' in page


def test_opening_an_entry_marks_it_read_and_goes_to_the_item(client, told, qa):
    client.force_login(qa)
    row = Notification.objects.filter(user=qa, channel="inbox").order_by("created_at").first()
    answer = client.post(f"/inbox/{row.pk}/read/", {"open": "1"})
    assert answer.status_code == 302
    assert answer["Location"] == f"/items/{row.item_id}/"
    row.refresh_from_db()
    assert row.read_at is not None
    assert 'aria-label="1 unread">1</span>' in client.get("/inbox/").content.decode()
    client.post("/inbox/read-all/")
    assert "Nothing unread." in client.get("/inbox/?unread=1").content.decode()


def test_outsider_cannot_mark_anothers_entry(client, told, qa, outsider):
    row = Notification.objects.filter(user=qa, channel="inbox").first()
    client.force_login(outsider)
    assert client.post(f"/inbox/{row.pk}/read/").status_code == 404
    assert "Backups" not in client.get("/inbox/").content.decode()
    row.refresh_from_db()
    assert row.read_at is None


def test_inbox_needs_signing_in(client):
    assert client.get("/inbox/").status_code == 302


def test_preferences_page_saves_choices_and_keeps_critical_ones_immediate(client, qa):
    client.force_login(qa)
    page = client.get("/inbox/preferences/").content.decode()
    assert "A go-live is set or moved" in page
    assert "Critical: always told immediately." in page
    from notifications.models import CHOOSABLE_EVENTS

    form = {str(event): "immediate" for event in CHOOSABLE_EVENTS}  # what the browser sends
    form |= {"item_awaiting_signoff": "digest", "signoff_stale": "off", "release_go_live": "off"}
    answer = client.post("/inbox/preferences/", form)
    assert answer.status_code == 302
    saved = dict(Preference.objects.filter(user=qa).values_list("event", "mode"))
    assert saved["item_awaiting_signoff"] == "digest"
    assert saved["signoff_stale"] == "off"
    assert saved.get("release_go_live", "immediate") == "immediate"  # a disabled field keeps its value
