"""Nothing is lost and nothing is sent twice when Redis goes away."""

import os
import subprocess
import time
from collections import Counter

import pytest
from django.conf import settings

from notifications.models import Notification
from notifications.tasks import notifications_sweep
from tests.conftest import start_worker

from .conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_redis_down_while_100_signoffs_happen_then_every_mail_is_delivered_once(
    own_redis, smtp_receiver, smtp_server, scenario, make_item, contributor, qa, manager, done
):
    own_redis.start()
    own_redis.stop()  # Redis goes away: the changes below must still commit, and at once

    items = [make_item(title=f"Check {n}", assignee=contributor) for n in range(100)]
    for item in items:
        done(item)
    for item in items:
        scenario.signoff(item, qa)
    assert Notification.objects.filter(event="signoff_approved", channel="email").count() == 100
    waiting = Counter(Notification.objects.filter(channel="email").values_list("user__email", flat=True))
    assert not Notification.objects.filter(channel="email").exclude(status="pending").exists()

    own_redis.start()  # back, empty: every task published before is gone
    db = settings.DATABASES["default"]
    worker = start_worker(
        {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": own_redis.url,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_receiver.port}",
        },
        name="redis-back",
    )
    try:
        # What beat does every minute (here every few seconds: the sweeper leaves rows alone
        # for their first half minute, taking them to be in the broker's hands).
        last_sweep = [0.0]

        def delivered():
            if time.monotonic() - last_sweep[0] > 5:
                notifications_sweep.delay()
                last_sweep[0] = time.monotonic()
            return not Notification.objects.filter(channel="email").exclude(status="sent").exists()

        wait_for(delivered, timeout=150)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    with smtp_server.lock:
        arrived = Counter(m["To"] for m in smtp_server.messages)
    assert arrived == waiting
    assert arrived["manager@example.com"] == 100
