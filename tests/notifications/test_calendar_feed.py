"""The go-live calendar feed: /api/v1/calendar/<token>.ics, opened by the secret key in its
URL, parsed back with icalendar as a calendar application would."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.services import calendar_token_issue, calendar_token_rotate
from releases.models import AuditAction, AuditEvent, Release
from releases.services import release_transition, release_update

from ..factories import in_days

API = "/api/v1"


def _feed_url(user) -> str:
    return f"{API}/calendar/{calendar_token_issue(user=user)}.ics"


def _events(client, user) -> dict[str, icalendar.Event]:
    response = client.get(_feed_url(user))
    assert response.status_code == 200, response.content
    calendar = icalendar.Calendar.from_ical(response.content)
    return {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}


def test_the_feed_is_text_calendar_at_exactly_its_path_without_a_slash(client, release, manager):
    url = _feed_url(manager)
    assert url.endswith(".ics")

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0"
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Go-live: Billing 2.0 (Billing)"
    go_live = release.go_live_at.replace(microsecond=0)  # iCalendar times are to the second
    assert event.decoded("DTSTART") == go_live
    assert event.decoded("DTEND") == go_live + dt.timedelta(hours=1)  # no window end: an hour
    assert str(event["URL"]) == f"http://testserver/releases/{release.pk}/"
    assert f"http://testserver/releases/{release.pk}/" in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "TENTATIVE"
    # And the address with a slash added is not the feed (nor redirected to it).
    assert client.get(url + "/").status_code == 404


def test_a_poll_of_an_unchanged_feed_is_a_304_and_a_change_is_a_new_etag(client, release, manager):
    url = _feed_url(manager)
    first = client.get(url)
    etag = first["ETag"]
    assert etag.startswith('"')
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    release_update(release=release, actor=manager, go_live_at=in_days(12))
    moved = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert moved.status_code == 200
    assert moved["ETag"] != etag
    assert b"BEGIN:VCALENDAR" in moved.content


def test_a_moved_go_live_keeps_its_uid_and_raises_its_sequence(client, release, manager):
    before = _events(client, manager)["Go-live: Billing 2.0 (Billing)"]

    new_go_live = in_days(12).replace(microsecond=0)
    window_end = new_go_live + dt.timedelta(hours=3)
    release_update(release=release, actor=manager, go_live_at=new_go_live, window_end_at=window_end)
    moved = _events(client, manager)["Go-live: Billing 2.0 (Billing)"]
    release_update(release=release, actor=manager, description="Not a move.")
    unchanged = _events(client, manager)["Go-live: Billing 2.0 (Billing)"]
    later = new_go_live + dt.timedelta(days=1)
    release_update(
        release=Release.objects.get(pk=release.pk),
        actor=manager,
        go_live_at=later,
        window_end_at=later + dt.timedelta(hours=1),
    )
    moved_again = _events(client, manager)["Go-live: Billing 2.0 (Billing)"]

    assert str(before["UID"]) == str(moved["UID"]) == str(moved_again["UID"])
    assert before["SEQUENCE"] < moved["SEQUENCE"] < moved_again["SEQUENCE"]
    assert unchanged["SEQUENCE"] == moved["SEQUENCE"]
    assert moved.decoded("DTSTART") == new_go_live
    assert moved.decoded("DTEND") == new_go_live + dt.timedelta(hours=3)
    assert moved_again.decoded("DTSTART") == later


def test_a_cancelled_release_is_marked_cancelled_with_a_higher_sequence(client, release, manager):
    before = _events(client, manager)["Go-live: Billing 2.0 (Billing)"]

    release_transition(release=release, actor=manager, to=Release.State.CANCELLED, reason="Postponed to Q3.")

    after = _events(client, manager)["Go-live: Billing 2.0 (Billing)"]
    assert str(after["STATUS"]) == "CANCELLED"
    assert after["UID"] == before["UID"]
    assert after["SEQUENCE"] > before["SEQUENCE"]


def test_an_outsiders_feed_holds_only_what_they_may_see(client, scenario, release, manager, outsider):
    theirs = scenario.project("Payments", "payments", admins=[outsider])
    scenario.create(theirs, "Payments", "5.1", by=outsider, go_live_at=in_days(3))
    scenario.create(theirs, "Unscheduled", by=outsider)

    assert list(_events(client, outsider)) == ["Go-live: Payments 5.1 (Payments)"]
    assert "Go-live: Payments 5.1 (Payments)" not in _events(client, manager)


def test_releases_without_a_go_live_are_left_out(client, scenario, project, release, manager):
    scenario.create(project, "Someday")

    assert list(_events(client, manager)) == ["Go-live: Billing 2.0 (Billing)"]


def test_the_rotated_keys_old_url_is_a_404_and_the_new_one_works(client, release, manager):
    old = _feed_url(manager)

    calendar_token_rotate(user=manager)

    response = client.get(old)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert client.get(_feed_url(manager)).status_code == 200
    assert _feed_url(manager) != old


@pytest.mark.parametrize("token", ["unknown", "a" * 64, "a" * 65, "", "x.y"])
def test_an_unknown_key_is_a_json_404_even_when_a_calendar_asks(client, db, token):
    response = client.get(f"{API}/calendar/{token}.ics", HTTP_ACCEPT="text/calendar")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_a_deactivated_persons_feed_is_gone(client, release, manager):
    url = _feed_url(manager)
    manager.is_active = False
    manager.save()

    assert client.get(url).status_code == 404


def test_the_feed_needs_no_sign_in_and_ignores_a_wrong_token_header(client, release, manager):
    response = client.get(_feed_url(manager), HTTP_AUTHORIZATION="Token not-a-token")

    assert response.status_code == 200


def test_a_czech_persons_feed_is_in_czech(client, release, manager):
    from notifications.services import profile_update

    profile_update(user=manager, actor=manager, language="cs")
    response = client.get(_feed_url(manager))

    (event,) = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Spuštění: Billing 2.0 (Billing)"


def _many_releases(project, manager, count: int) -> None:
    now = timezone.now()
    made = Release.objects.bulk_create(
        [
            Release(project=project, name=f"Bulk {i}", version="1.0", go_live_at=now + dt.timedelta(days=i + 1))
            for i in range(count)
        ]
    )
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                release=r, actor=manager, action=AuditAction.RELEASE_GO_LIVE_CHANGED, target_type="releases.release"
            )
            for r in made
        ]
    )


def test_the_feed_costs_the_same_queries_for_a_few_releases_or_many(client, project, release, manager):
    url = _feed_url(manager)
    _many_releases(project, manager, 3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200

    _many_releases(project, manager, 200)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)

    assert len(icalendar.Calendar.from_ical(response.content).walk("VEVENT")) == 204
    assert len(many) == len(few) <= 6


def test_the_feed_stays_flat_in_queries(client, django_assert_max_num_queries, project, release, manager):
    url = _feed_url(manager)
    _many_releases(project, manager, 100)

    with django_assert_max_num_queries(6):
        response = client.get(url)

    assert response.status_code == 200


def test_a_path_the_api_lacks_is_not_redirected_to_the_same_path_with_a_slash(client, db):
    """The API's catch-all matched the slashed path too, so it sent every unknown read to a
    slashed 404 (a calendar URL with a bad key among them); only a real route is redirected to."""
    for path in ("/calendar/a.b.ics", "/nothing-here"):
        response = client.get(f"{API}{path}")
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
    assert client.get(f"{API}/me").status_code == 301  # a real route, without its slash


def test_a_go_live_at_the_end_of_time_is_still_a_feed(client, release, manager):
    Release.objects.filter(pk=release.pk).update(go_live_at=dt.datetime(9999, 12, 31, 23, 30, tzinfo=dt.UTC))

    (event,) = _events(client, manager).values()

    assert event.decoded("DTSTART").year == 9999
