"""The periodic work of the reports and announcements, as django-celery-beat rows (editable
in the admin): scheduled readiness reports hourly (weekly ones and the day before go-live,
each made once), and every minute the re-queueing of reports and announcement batches left
waiting (a lost task, a killed worker) and the start of announcements whose time has come."""

from django.db import migrations

HOURLY = {"every": 1, "period": "hours"}
EVERY_MINUTE = {"every": 1, "period": "minutes"}
TASKS = [
    ("notifications: scheduled readiness reports", "notifications.reports_scheduled", HOURLY),
    ("notifications: re-queue reports left waiting", "notifications.reports_requeue", EVERY_MINUTE),
    ("notifications: announcements due and batches left waiting", "notifications.announcements_sweep", EVERY_MINUTE),
]


def schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    for name, task, every in TASKS:
        interval, _ = IntervalSchedule.objects.get_or_create(**every)
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[t[0] for t in TASKS]).delete()


class Migration(migrations.Migration):
    dependencies = [("notifications", "0006_announcements")]

    operations = [migrations.RunPython(schedule, unschedule)]
