"""The periodic work: every beat row names a task the worker knows, and the reminders each
go out once, whatever how often they run."""

import datetime as dt

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config.celery import app
from notifications.models import Event, Notification
from notifications.services.digests import reminders_compose
from tests.factories import in_days

pytestmark = pytest.mark.django_db


def test_every_scheduled_task_is_one_the_worker_runs():
    app.loader.import_default_modules()
    scheduled = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {
        "notifications.sweep",
        "notifications.reminders",
        "notifications.digests",
        "notifications.reports_scheduled",
        "notifications.reports_requeue",
        "notifications.announcements_sweep",
    } <= scheduled
    assert scheduled <= set(app.tasks)


def _told(event):
    return sorted(Notification.objects.filter(event=event, channel="email").values_list("user__username", flat=True))


def test_due_soon_and_overdue_reminders_go_out_once(scenario, make_item, contributor, manager):
    make_item(title="Soon", assignee=contributor, due_at=in_days(1))
    make_item(title="Late", assignee=contributor, due_at=in_days(-1))
    make_item(title="Later", assignee=contributor, due_at=in_days(5))
    reminders_compose()
    reminders_compose()
    assert _told(Event.ITEM_DUE_SOON) == ["contributor"]
    assert _told(Event.ITEM_OVERDUE) == ["contributor", "manager"]


def test_signoff_waiting_over_a_day_reminds_the_approvers_once(scenario, make_item, contributor, qa, qa2, done):
    item = make_item(assignee=contributor, role="QA")
    done(item)
    reminders_compose()
    assert _told(Event.SIGNOFF_REMINDER) == []
    later = timezone.now() + dt.timedelta(days=1, hours=1)
    reminders_compose(now=later)
    reminders_compose(now=later + dt.timedelta(hours=1))
    assert _told(Event.SIGNOFF_REMINDER) == ["qa", "qa2"]


def test_signoff_reminder_skips_who_has_signed_already(scenario, make_item, contributor, qa, qa2, done):
    item = make_item(assignee=contributor, role="QA", signoffs=2)
    done(item)
    scenario.signoff(item, qa)
    reminders_compose(now=timezone.now() + dt.timedelta(days=1, hours=1))
    told = sorted(
        Notification.objects.filter(event=Event.SIGNOFF_REMINDER, channel="email").values_list(
            "user__username", flat=True
        )
    )
    assert told == ["qa2"]
