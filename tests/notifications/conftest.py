import subprocess

import pytest

from notifications.models import Notification
from notifications.services.delivery import notification_deliver
from releases import services


@pytest.fixture
def deliver_all():
    """Deliver every pending outbox row here, in this process (what the worker does)."""

    def run():
        for pk in Notification.objects.filter(status="pending").values_list("pk", flat=True):
            notification_deliver(notification_id=pk)

    return run


def wait_for(predicate, *, timeout=30.0, what="the worker"):
    """Poll until `predicate()` is true (the worker runs in another process)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not finish within {timeout} s")


class OwnRedis:
    """A Redis server of the test's own, on a free port, that the test stops and starts."""

    def __init__(self) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self) -> None:
        import shutil
        import subprocess

        import redis

        server = shutil.which("redis-server")
        if server is None:
            pytest.fail("This test needs redis-server on the PATH (apt-get install redis-server).")
        self.proc = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        wait_for(lambda: self._pings(redis), timeout=10, what="redis-server")

    def _pings(self, redis) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except redis.exceptions.ConnectionError:
            return False

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def own_redis():
    """A Redis of this test's own that Celery in this process publishes to (the suite's
    Redis and worker are left alone)."""
    from config.celery import app

    server = OwnRedis()
    saved = app.conf.broker_url

    def point_at(url):
        app.conf.broker_url = url
        app._pool = None  # the connections and producers made for the other broker
        app.amqp._producer_pool = None

    point_at(server.url)
    try:
        yield server
    finally:
        server.stop()
        point_at(saved)


@pytest.fixture
def api_client():
    """An unauthenticated APIClient."""
    from rest_framework.test import APIClient

    return APIClient()


# --- readiness reports ---------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def pdf_text(data: bytes, tmp_path) -> str:
    """The PDF's text as pdftotext reads it (layout kept: a table row stays on one line)."""
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def ready_release(scenario, release, make_item, done, contributor, qa, manager):
    """The in-progress release with one required QA item done by the contributor and approved
    by qa, and a stakeholder."""
    item = make_item(title="Regression tests", assignee=contributor)
    done(item)
    scenario.signoff(item, qa, comment="Looks good.")
    return release


@pytest.fixture
def approved_release(ready_release, manager):
    return services.release_transition(release=ready_release, actor=manager, to="approved")


@pytest.fixture
def api_as():
    """api_as(user) → an APIClient authenticated as that user."""
    from rest_framework.test import APIClient

    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make
