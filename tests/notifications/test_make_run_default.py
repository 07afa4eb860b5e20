"""`make run`'s embedded default (SQLite, Celery tasks in-process, e-mail written to files)
sends announcements: at once when sent now, and when due through the schedule beat runs
beside the server (a beat with no broker runs each due task itself, as here). tests/embedded.py
runs it on a fresh SQLite file."""

from __future__ import annotations

from tests.embedded import run_embedded

SCRIPT = r"""
import datetime as dt
from django.utils import timezone

assert settings.CELERY_TASK_ALWAYS_EAGER

from django_celery_beat.models import PeriodicTask
from config.celery import app
from notifications.models import Announcement, AnnouncementDelivery
from notifications.services.announcements import announcement_create
from notifications.services.audiences import audience_create
from releases.models import ProjectMembership
from releases.services import release_create
from tests.factories import MembershipFactory, ProjectFactory, UserFactory, in_days

project = ProjectFactory()
manager = UserFactory(username="manager")
MembershipFactory(project=project, user=manager, role=ProjectMembership.Role.ADMIN)
release = release_create(
    actor=manager, project=project, name="Portal", go_live_at=in_days(5), rollback_plan="Redeploy."
)
audience = audience_create(actor=manager, name="Users", project=project, addresses=["a@example.com", "b@example.com"])
now = announcement_create(release=release, actor=manager, audience=audience, kind="released",
                          subject="{release} is out", body="Done.")
later = announcement_create(release=release, actor=manager, audience=audience, kind="downtime",
                            subject="Downtime", body="At {go_live}.", send_at=timezone.now() + dt.timedelta(hours=1))
before = Announcement.objects.get(pk=later.pk).status
Announcement.objects.filter(pk=later.pk).update(send_at=timezone.now() - dt.timedelta(seconds=1))
sweep = PeriodicTask.objects.get(task="notifications.announcements_sweep")
app.tasks[sweep.task].apply_async()  # what beat does when the schedule is due
print(json.dumps({
    "statuses": [Announcement.objects.get(pk=pk).status for pk in (now.pk, later.pk)],
    "later_before_due": before,
    "sent": AnnouncementDelivery.objects.filter(status="sent").count(),
}))
"""


def test_make_run_sends_announcements_now_and_when_due(tmp_path):
    outcome = run_embedded(SCRIPT, tmp_path)
    assert outcome == {"statuses": ["sent", "sent"], "later_before_due": "scheduled", "sent": 4}
    written = "".join(path.read_text() for path in (tmp_path / "mail").iterdir())
    assert written.count("To: a@example.com") == 2
    assert written.count("To: b@example.com") == 2
