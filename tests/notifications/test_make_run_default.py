"""`make run`'s embedded default (SQLite, Celery tasks in-process, e-mail written to files)
sends announcements: at once when sent now, and when due through the schedule beat runs
beside the server (a beat with no broker runs each due task itself, as here).

The suite's database is PostgreSQL, so this runs the app's own settings in a subprocess on a
fresh SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import datetime as dt
import json
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

assert connection.vendor == "sqlite", connection.vendor
assert settings.CELERY_TASK_ALWAYS_EAGER
call_command("migrate", verbosity=0)

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
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "EMAIL_URL")}
    env.update(
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"statuses": ["sent", "sent"], "later_before_due": "scheduled", "sent": 4}
    written = "".join(path.read_text() for path in (tmp_path / "mail").iterdir())
    assert written.count("To: a@example.com") == 2
    assert written.count("To: b@example.com") == 2
