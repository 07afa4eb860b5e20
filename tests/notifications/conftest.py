"""Audiences and announcements, and Celery workers of a test's own that send e-mail to the
test's SMTP receiver.

The session's `celery_worker` writes e-mail to files (it has no EMAIL_URL) and consumes the
default queue; a test that must see mail arrive starts its own worker (`start_mail_worker`)
with EMAIL_URL pointing at the receiver, on a queue of its own (`own_queue`) so that no other
worker takes its tasks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from notifications.models import Audience
from notifications.services.audiences import audience_create

ROOT = Path(__file__).resolve().parents[2]
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


def start_worker(env: dict[str, str], *, name: str) -> subprocess.Popen:
    """A Celery worker subprocess (solo pool), answering a ping on its queue before it returns."""
    from django.conf import settings

    from config.celery import ping

    if not settings.REDIS_URL:
        pytest.fail("The Celery worker tests need Redis: run them with `make test` (REDIS_URL=redis://...).")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{name}-{uuid.uuid4().hex[:6]}@%h"],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
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
    proc = start_worker(worker_env(queue=queue, email_port=email_port, **extra), name="mail")
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
        proc = start_worker(worker_env(queue=own_queue, email_port=settings.EMAIL_PORT, **extra), name="mail")
        started.append(proc)
        return proc

    yield start
    for proc in started:
        stop_worker(proc)


def wait_for(condition: Callable[[], Any], *, timeout: float, what: str) -> Any:
    """Polls until `condition()` is truthy (its value is returned); fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


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
def smtp_receiver(handler: Any) -> Iterator[int]:
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
