"""The periodic work, as django-celery-beat rows (beat reads them; administrators edit them in
the admin): the outbox's sweeper every minute, reminders hourly, the digest every morning.
Existing rows of the same name are left as an administrator set them."""

from django.db import migrations

EVERY_MINUTE = ("notifications: sweep the outbox", "notifications.sweep", {"every": 1, "period": "minutes"})
HOURLY = (
    "notifications: due, overdue and sign-off reminders",
    "notifications.reminders",
    {"every": 1, "period": "hours"},
)
DIGEST = ("notifications: daily digest", "notifications.digests", {"minute": "0", "hour": "7"})


def schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    for name, task, every in (EVERY_MINUTE, HOURLY):
        interval, _ = IntervalSchedule.objects.get_or_create(**every)
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})
    name, task, when = DIGEST
    crontab, _ = CrontabSchedule.objects.get_or_create(
        **when, day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab})


def unschedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[EVERY_MINUTE[0], HOURLY[0], DIGEST[0]]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_profile_calendar_token"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
