"""The Celery app. Tasks run in-process when no broker is configured (see settings)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("shipcheck")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="shipcheck.ping")
def ping() -> str:
    """Answers "pong": lets /readyz and the tests see that a worker is consuming."""
    return "pong"
