"""The outbox's helpers (deliver_all, wait_for, own_redis); audiences and announcements, and
Celery workers of a test's own that send e-mail to the test's SMTP receiver.

The session's `celery_worker` sends e-mail to the session's SMTP receiver and consumes the
default queue; a test that must control its worker (kill it mid-send) starts its own
(`start_mail_worker`) on a queue of its own (`own_queue`) so that no other worker takes its
tasks."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from notifications.models import Audience, Notification
from notifications.services.audiences import audience_create
from notifications.services.delivery import notification_deliver
from releases import services
from tests.conftest import start_worker


@pytest.fixture
def deliver_all():
    """Deliver every pending outbox row here, in this process (what the worker does)."""

    def run():
        for pk in Notification.objects.filter(status="pending").values_list("pk", flat=True):
            notification_deliver(notification_id=pk)

    return run


def wait_for(predicate, *, timeout=30.0, what="the worker"):
    """Poll until `predicate()` is true (the worker runs in another process); its value."""

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
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


TASKS = ("notifications.announcement_*", "shipcheck.ping")


@pytest.fixture
def own_queue() -> Iterator[str]:
    """A queue of the test's own: the tasks this process queues (announcements, ping) go there."""
    from config.celery import app

    name = f"test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    old = app.conf.task_routes
    app.conf.task_routes = {task: {"queue": name} for task in TASKS}
    app.amqp.flush_routes()
    app.amqp.__dict__.pop("router", None)
    try:
        yield name
    finally:
        app.conf.task_routes = old
        app.amqp.flush_routes()
        app.amqp.__dict__.pop("router", None)


def worker_env(*, queue: str, email_port: int, **extra: Any) -> dict[str, str]:
    from django.conf import settings

    db = settings.DATABASES["default"]
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_URL": f"smtp://127.0.0.1:{email_port}",
        "CELERY_QUEUE": queue,
        "SITE_URL": "https://shipcheck.example.com",
        **{key: str(value) for key, value in extra.items()},
    }


def start_pinged_worker(env: dict[str, str], *, name: str) -> subprocess.Popen:
    """A Celery worker subprocess on the env's queue, answering a ping there before it returns."""
    from django.conf import settings

    from config.celery import ping

    if not settings.REDIS_URL:
        pytest.fail("The Celery worker tests need Redis: run them with `make test` (REDIS_URL=redis://...).")
    proc = start_worker(env, name=f"{name}-{uuid.uuid4().hex[:6]}")
    assert ping.apply_async(queue=env["CELERY_QUEUE"]).get(timeout=60) == "pong", "the worker did not answer"
    return proc


def stop_worker(proc: subprocess.Popen, *, kill: bool = False) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def mail_worker(queue: str, email_port: int, **extra: Any) -> Iterator[subprocess.Popen]:
    proc = start_pinged_worker(worker_env(queue=queue, email_port=email_port, **extra), name="mail")
    try:
        yield proc
    finally:
        stop_worker(proc)


@pytest.fixture
def start_mail_worker(own_queue, smtp_server) -> Iterator[Callable[..., subprocess.Popen]]:
    """Starts workers (as many as asked, each with extra settings by environment variable)
    that send to the test's SMTP receiver; stops those still running at the end."""
    from django.conf import settings

    started: list[subprocess.Popen] = []

    def start(**extra: Any) -> subprocess.Popen:
        proc = start_pinged_worker(worker_env(queue=own_queue, email_port=settings.EMAIL_PORT, **extra), name="mail")
        started.append(proc)
        return proc

    yield start
    for proc in started:
        stop_worker(proc)


@pytest.fixture
def audience(project, manager) -> Audience:
    return audience_create(
        actor=manager,
        name="Billing customers",
        project=project,
        language="en",
        addresses=["Ann@Example.com", "bob@example.com", "ann@example.com"],
    )


@pytest.fixture
def czech_audience(project, manager) -> Audience:
    return audience_create(
        actor=manager, name="Zákazníci", project=project, language="cs", addresses=["jana@example.cz"]
    )


class GatedInbox:
    """An SMTP receiver's handler that counts what arrives, and can hold the `hold_at`-th
    message unanswered (not stored) until `release` is set: a worker killed while it waits is
    killed in the middle of a batch, its message not accepted."""

    def __init__(self, hold_at: int | None = None) -> None:
        import threading

        self.recipients: list[str] = []
        self.message_ids: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.hold_at = hold_at
        self.holding = threading.Event()
        self.release = threading.Event()
        self.seen = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's API)
        import asyncio
        from email.parser import BytesHeaderParser

        with self.lock:
            self.seen += 1
            hold = self.seen == self.hold_at
        if hold:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 Try again later"
        headers = BytesHeaderParser().parsebytes(envelope.content)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.recipients.append(rcpt.lower())
                self.message_ids.append((rcpt.lower(), headers["Message-ID"]))
        return "250 Message accepted"


@contextmanager
def gated_smtp_receiver(handler: Any) -> Iterator[int]:
    """A real SMTP receiver (aiosmtpd) on a free local port, with `handler`; yields the port."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
