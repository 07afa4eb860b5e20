"""`make bench`: a 10,000-address announcement through Celery and Redis (one worker, a
process per core) to a local SMTP receiver (aiosmtpd, a process of its own), against its
floor: a raw smtplib loop over one connection sending the same 10,000 messages (built
beforehand) to the same receiver. Prints both (the median of 5 interleaved rounds: on a busy
machine the floor alone varies by half from one round to the next) and the ratio (goal ≤ 1.5×).

The announcement's time runs from its creation (committed, its start task queued) until the
last address is marked sent: the delivery rows made, 50 batch tasks through Redis, each
message rendered, sent over the batch's SMTP connection and marked sent after its acceptance.

    make bench
    BENCH_ADDRESSES=2000 .venv/bin/python tests/bench/bench_announce.py
"""

from __future__ import annotations

import os
import smtplib
import socket
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
BASE_URL = os.environ.get("BENCH_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_DATABASE_NAME", "shipcheck_bench_announce")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
ADDRESSES = int(os.environ.get("BENCH_ADDRESSES", "10000"))
ROUNDS = int(os.environ.get("BENCH_ANNOUNCE_ROUNDS", "5"))
QUEUE = f"bench-announce-{os.getpid()}"
# As deployed (`celery -A config worker`: the prefork pool, a process per core), at least 2.
CONCURRENCY = int(os.environ.get("BENCH_WORKER_CONCURRENCY", str(max(2, os.cpu_count() or 1))))

RECEIVER = textwrap.dedent(
    """
    import signal, sys, threading
    from aiosmtpd.controller import Controller

    class Counter:
        def __init__(self):
            self.count = 0
        async def handle_DATA(self, server, session, envelope):
            self.count += len(envelope.rcpt_tos)
            return "250 Message accepted"

    handler = Counter()
    controller = Controller(handler, hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    for line in sys.stdin:  # "count": how many arrived so far
        print(handler.count, flush=True)
    controller.stop()
    """
)


class Receiver:
    """The SMTP receiver in a process of its own (so that it competes with neither side)."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(
            [sys.executable, "-c", RECEIVER, str(self.port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the SMTP receiver did not start")

    def count(self) -> int:
        assert self.proc.stdin
        assert self.proc.stdout
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def stop(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        self.proc.wait(timeout=20)


def fresh_database() -> None:
    with psycopg.connect(f"{BASE_URL}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")


def setup_django(email_port: int) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only",
        "DATABASE_URL": f"{BASE_URL}/{DB}",
        "REDIS_URL": REDIS_URL,
        "EMAIL_URL": f"smtp://127.0.0.1:{email_port}",
        "CELERY_QUEUE": QUEUE,
        "SITE_URL": "https://shipcheck.example.com",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return {**os.environ, **env}


def world():
    from django.utils import timezone

    from notifications.services.audiences import audience_create
    from releases.scenario import Scenario

    s = Scenario(admin="manager", manager="manager", password="pw")
    manager = s.person("manager", staff=True, superuser=True)
    project = s.project("Billing", "billing", admins=[manager])
    release = s.start(s.create(project, "Billing", "2.0", go_live_at=timezone.now() + timezone.timedelta(days=3)))
    addresses = [f"customer{n:05d}@example.com" for n in range(ADDRESSES)]
    audience = audience_create(actor=manager, name="Customers", project=project, language="cs", addresses=addresses)
    return manager, release, audience


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    from config.celery import app, ping

    app.control.purge()
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", f"--concurrency={CONCURRENCY}",
         "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"bench-{os.getpid()}@%h"],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    assert ping.apply_async(queue=QUEUE).get(timeout=60) == "pong"
    return proc


def through_celery(manager, release, audience, receiver: Receiver) -> float:
    from notifications.models import Announcement
    from notifications.services.announcements import announcement_create

    before = receiver.count()
    start = time.perf_counter()
    announcement = announcement_create(
        release=release, actor=manager, audience=audience, kind="downtime",
        subject="Odstávka {release}", body="{release} {version}: odstávka od {window_start}.",
    )  # fmt: skip
    while not Announcement.objects.filter(pk=announcement.pk, status=Announcement.Status.SENT).exists():
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    announcement.refresh_from_db()
    arrived = receiver.count() - before
    assert (announcement.sent, arrived) == (ADDRESSES, ADDRESSES), (announcement.sent, arrived)
    return elapsed


def raw_loop(release, audience, receiver: Receiver) -> float:
    """The same messages (rendered beforehand, not timed) sent by smtplib over one connection."""
    from notifications.models import Announcement
    from notifications.services.announcement_messages import Messages as _Messages

    announcement = Announcement.objects.filter(audience=audience).last()
    messages = _Messages(announcement, None)
    emails = list(audience.members.values_list("email", flat=True))
    built = [
        (email, messages.for_address(n, email).message().as_bytes(linesep="\r\n")) for n, email in enumerate(emails)
    ]
    before = receiver.count()
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", receiver.port) as smtp:
        for email, data in built:
            smtp.sendmail("shipcheck@localhost", [email], data)
    elapsed = time.perf_counter() - start
    assert receiver.count() - before == len(built)
    return elapsed


def main() -> None:
    load = os.getloadavg()
    fresh_database()
    receiver = Receiver()
    env = setup_django(receiver.port)
    manager, release, audience = world()
    worker = start_worker(env)
    celery_runs: list[float] = []
    raw_runs: list[float] = []
    try:
        for _ in range(ROUNDS):  # interleaved, so that both sides see the same machine
            celery_runs.append(through_celery(manager, release, audience, receiver))
            raw_runs.append(raw_loop(release, audience, receiver))
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        receiver.stop()
    celery_s, raw_s = statistics.median(celery_runs), statistics.median(raw_runs)
    ratio = celery_s / raw_s
    from django.conf import settings

    batches = settings.ANNOUNCEMENT_BATCH_SIZE
    print(f"\nAnnouncement to {ADDRESSES:,} addresses (aiosmtpd receiver, batches of {batches})")
    print(f"  configuration: one Celery worker, prefork pool, --concurrency={CONCURRENCY} (an SMTP connection each)")
    print(f"  load average before/after: {load[0]:.2f} / {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    runs = {"Celery": celery_runs, "raw": raw_runs}
    print("  runs (s): " + "; ".join(f"{name} " + ", ".join(f"{t:.2f}" for t in ts) for name, ts in runs.items()))
    print(f"  through Celery and Redis (median):    {celery_s:6.2f} s  ({ADDRESSES / celery_s:,.0f} messages/s)")
    print(f"  raw smtplib, one connection (median): {raw_s:6.2f} s  ({ADDRESSES / raw_s:,.0f} messages/s)")
    print(f"  ratio: {ratio:.2f}x (goal <= 1.5x){'' if ratio <= 1.5 else '  OVER'}")


if __name__ == "__main__":
    main()
