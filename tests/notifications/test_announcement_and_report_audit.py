"""Announcements and readiness reports leave their trace in the release's audit trail: who
scheduled or cancelled an announcement, when it went out and to how many, who asked for a
report. The release page's timeline shows and filters them; an
outsider sees none of it."""

import datetime as dt

import pytest
from django.utils import timezone

from config.domain import Conflict
from notifications.models import Announcement
from notifications.services import report_request, reports_schedule
from notifications.services.announcement_sending import (
    announcement_progress,
    announcement_send_batch,
    announcement_start,
)
from notifications.services.announcements import announcement_cancel, announcement_create
from releases.models import AuditEvent
from tests.concurrency import at_once

pytestmark = pytest.mark.django_db


def _trail(release, kind):
    return list(
        AuditEvent.objects.filter(release=release, action__startswith=kind)
        .order_by("id")
        .values_list("action", "actor_name", "target_repr", "after")
    )


def _announce(release, manager, audience, **kwargs):
    return announcement_create(
        release=release, actor=manager, audience=audience, kind="downtime", subject="{release} maintenance",
        body="{release} {version} is down for an hour.", **kwargs,
    )  # fmt: skip


def test_a_sent_announcement_is_recorded_when_scheduled_and_once_when_sent(release, manager, audience):
    n = audience.members.count()
    announcement = _announce(release, manager, audience)
    send_at = announcement.send_at.isoformat()
    assert announcement_start(announcement_id=announcement.pk)
    assert announcement_send_batch(announcement_id=announcement.pk, batch=0) == n
    announcement_progress(announcement_id=announcement.pk)  # again, as the sweeper would: no second event
    assert _trail(release, "announcement") == [
        ("announcement.scheduled", "manager", "Billing maintenance",
         {"kind": "downtime", "audience": audience.name, "send_at": send_at}),
        ("announcement.sent", "system", "Billing maintenance", {"total": n, "sent": n, "failed": 0}),
    ]  # fmt: skip


def test_a_cancelled_announcement_is_recorded_once(release, manager, audience):
    announcement = _announce(release, manager, audience, send_at=timezone.now() + dt.timedelta(hours=1))
    announcement_cancel(announcement=announcement, actor=manager)
    with pytest.raises(Conflict):
        announcement_cancel(announcement=announcement, actor=manager)
    assert [(action, actor) for action, actor, _repr, _after in _trail(release, "announcement")] == [
        ("announcement.scheduled", "manager"),
        ("announcement.cancelled", "manager"),
    ]


def test_a_report_asked_for_is_recorded_and_a_schedules_is_not(scenario, release, manager, qa):
    report_request(release=release, actor=qa, language="cs")
    report_request(release=release, actor=manager, email_stakeholders=True)
    scenario.update(release, stakeholders=[qa])
    assert reports_schedule()  # one a week for every followed release: not in the trail
    assert _trail(release, "report") == [
        ("report.requested", "qa", "", {"kind": "on_demand", "language": "cs", "email_stakeholders": False}),
        ("report.requested", "manager", "", {"kind": "on_demand", "language": "en", "email_stakeholders": True}),
    ]


def test_the_timeline_shows_and_filters_them_to_members_only(client, release, manager, audience, qa, outsider):
    _announce(release, manager, audience)
    report_request(release=release, actor=qa)
    client.force_login(qa)
    announcements = client.get(f"/releases/{release.pk}/?kind=announcement&part=audit", HTTP_HX_REQUEST="true")
    text = announcements.content.decode()
    assert "Announcement scheduled: Billing maintenance" in text
    announcement = Announcement.objects.get()
    assert announcement_start(announcement_id=announcement.pk)
    announcement_send_batch(announcement_id=announcement.pk, batch=0)
    n = audience.members.count()
    sent = client.get(f"/releases/{release.pk}/?kind=announcement&part=audit", HTTP_HX_REQUEST="true").content.decode()
    assert f"Announcement sent: Billing maintenance ({n} of {n} delivered)" in sent
    assert "Readiness report requested" not in text
    reports = client.get(f"/releases/{release.pk}/?kind=report&part=audit", HTTP_HX_REQUEST="true").content.decode()
    assert "<strong>qa</strong> · Readiness report requested</li>" in reports
    assert "Announcement scheduled" not in reports
    client.force_login(outsider)
    assert client.get(f"/releases/{release.pk}/?kind=announcement&part=audit").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_batches_finishing_at_once_record_one_sent_event_with_the_final_counts(release, manager, audience):
    n = audience.members.count()
    announcement = _announce(release, manager, audience)
    assert announcement_start(announcement_id=announcement.pk)
    assert announcement_send_batch(announcement_id=announcement.pk, batch=0) == n
    results = at_once(*[lambda: announcement_progress(announcement_id=announcement.pk)] * 4)
    assert all(not isinstance(result, Exception) for result in results), results
    assert [after for action, _actor, _repr, after in _trail(release, "announcement.sent")] == [
        {"total": n, "sent": n, "failed": 0}
    ]
    announcement.refresh_from_db()
    assert (announcement.status, announcement.sent, announcement.total) == ("sent", n, n)
