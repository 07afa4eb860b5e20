"""Named people of a release and the helpers most tests use, all made by one Scenario
(releases/scenario.py), through the services:

- manager: release manager (project admin who creates the release)
- contributor: project member who works assigned items
- qa, qa2, security, ops: approvers (project members holding an approver role)
- outsider: holds roles but belongs to nothing; must see nothing
- staff: the site administrator ("admin"), who creates the project
"""

import pytest
from django.db.models.signals import post_migrate

from checklists.models import Category
from releases.models import ProjectMembership
from releases.scenario import Scenario

from .factories import PASSWORD, in_days


def pytest_configure(config):
    from django.conf import settings

    # Users are made by the dozen; a slow password hash buys nothing in tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _builtin_data_after_flush(sender, **kwargs):
    """Transactional tests (live server, threads) end with a flush that empties every table,
    including the rows the migrations made: the approver roles and the built-in templates.
    The flush then sends post_migrate (as if the database had just been migrated), and this
    puts them back, so that whatever test runs next, in whatever order, finds them. (Django's
    serialized_rollback can't be used: Playwright's greenlet sees another connection object.)"""
    if sender.name == "checklists":
        from checklists.services import builtin_templates_load

        builtin_templates_load()


post_migrate.connect(_builtin_data_after_flush, dispatch_uid="tests.conftest._builtin_data_after_flush")


@pytest.fixture
def scenario(db):
    """The builder of the test's world; the named people below are its `users`."""
    return Scenario(password=PASSWORD)


@pytest.fixture
def staff(scenario):
    return scenario.person("admin", staff=True, superuser=True)


@pytest.fixture
def project(scenario, staff):
    return scenario.project("Billing", "billing")


@pytest.fixture
def manager(scenario, project):
    return scenario.join(project, scenario.person("manager"), role=ProjectMembership.Role.ADMIN)


def _member(scenario, project, username, roles=()):
    return scenario.join(project, scenario.person(username, roles=roles))


@pytest.fixture
def contributor(scenario, project):
    return _member(scenario, project, "contributor")


@pytest.fixture
def qa(scenario, project):
    return _member(scenario, project, "qa", ["QA"])


@pytest.fixture
def qa2(scenario, project):
    return _member(scenario, project, "qa2", ["QA"])


@pytest.fixture
def security(scenario, project):
    return _member(scenario, project, "security", ["Security"])


@pytest.fixture
def ops(scenario, project):
    return _member(scenario, project, "ops", ["Operations"])


@pytest.fixture
def outsider(scenario):
    return scenario.person("outsider", roles=["QA", "Security", "Operations"])


@pytest.fixture
def release(scenario, project, manager):
    """An in-progress release with no template, go-live in 10 days, a rollback plan."""
    made = scenario.create(
        project, "Billing", "2.0", go_live_at=in_days(10), rollback_plan="Redeploy 1.9 from tag v1.9."
    )
    return scenario.start(made)


@pytest.fixture
def make_item(scenario, release, manager):
    def make(
        *,
        title="Security review",
        role="QA",
        signoffs=1,
        assignee=None,
        required=True,
        evidence_required=False,
        category=Category.SECURITY,
        **kwargs,
    ):
        return scenario.add_item(
            kwargs.pop("on_release", release),
            title,
            role=role or "",
            required_signoffs=signoffs if role else 0,
            assignee=assignee,
            required=required,
            evidence_required=evidence_required,
            category=category,
            **kwargs,
        )

    return make


@pytest.fixture
def done(scenario, manager):
    """Mark an item done as `by` (default: its assignee or the manager), with evidence."""

    def mark(item, by=None, evidence_url="https://ci.example.com/build/1"):
        return scenario.work_item(item, by=by or item.assignee or manager, evidence_url=evidence_url)

    return mark


# --- the real services the suite runs against -------------------------------------------

import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def postgresql(db):
    """For tests whose behaviour needs PostgreSQL (locks, triggers): fail, never skip, without it."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.fail("This test needs PostgreSQL: run it with `make test` (DATABASE_URL=postgres://...).")
    return connection


def _die_with_this_run() -> None:
    """In the worker, before it starts (Linux): SIGTERM when the test run that started it
    ends in any way, killed included. A worker left behind would go on taking the next run's
    tasks from the same Redis database, with this run's settings."""
    if sys.platform == "linux":
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_worker(env: dict[str, str], name: str = "test") -> subprocess.Popen:
    """A Celery worker process (solo pool) with this environment."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{name}-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        preexec_fn=_die_with_this_run,
    )


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, smtp_receiver):
    """A real Celery worker process consuming from Redis, against the test database, sending
    e-mail to the suite's SMTP receiver."""
    from django.conf import settings

    from config.celery import app, ping

    if not settings.REDIS_URL:
        pytest.fail("The Celery worker tests need Redis: run them with `make test` (REDIS_URL=redis://...).")
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_receiver.port}",
    }
    others = [name for reply in app.control.ping(timeout=1) for name in reply]
    if others:
        pytest.fail(
            f"Celery workers already take tasks from {settings.REDIS_URL}: {', '.join(others)}. Stop them (a test "
            "run killed earlier can leave its worker behind) or give this run another database (TEST_REDIS_URL)."
        )
    app.control.purge()
    proc = start_worker(env)
    try:
        assert ping.apply_async().get(timeout=60) == "pong", "the Celery worker did not answer"
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Before the test database is dropped, end the sessions this run leaves on it: the
    Celery worker's (PostgreSQL ends a departed client's session a moment after it exits)
    and the test thread's own when it was opened in another context (Playwright's greenlet),
    which Django's teardown can't see to close. Else the drop fails ("being accessed by
    other users") and the database is left behind."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    import psycopg

    settings = connection.settings_dict
    with (
        django_db_blocker.unblock(),
        psycopg.connect(
            host=settings["HOST"] or None,
            port=settings["PORT"] or None,
            user=settings["USER"] or None,
            password=settings["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
        ) as admin,
    ):
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [settings["NAME"]],
        )


class _Inbox:
    def __init__(self) -> None:
        self.messages: list = []
        self.lock = threading.Lock()
        self.port = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's API)
        """Addresses at bounce.example.com don't exist: refused with a permanent 550."""
        if address.lower().endswith("@bounce.example.com"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's API)
        import email
        from email import policy

        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


@pytest.fixture(scope="session")
def smtp_receiver():
    """A real SMTP receiver on a free local port for the whole run (the Celery worker sends
    to it too). `.messages` holds what arrived; `.port` is where it listens."""
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox()
    inbox.port = port
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(settings, smtp_receiver):
    """The SMTP receiver, emptied for this test; Django in this process sends to it."""
    with smtp_receiver.lock:
        smtp_receiver.messages.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_receiver.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    return smtp_receiver


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, headless, with no calls home (the network is closed)."""
    if not os.path.exists("/usr/bin/chromium"):
        pytest.fail("Browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium).")
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


def _database_fixture(request) -> str | None:
    """The database fixture a test uses, if any."""
    marker = request.node.get_closest_marker("django_db")
    if (
        "live_server" in request.fixturenames
        or "transactional_db" in request.fixturenames
        or (marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    ):
        return "transactional_db"
    if marker is not None or "db" in request.fixturenames:
        return "db"
    return None


@pytest.fixture(autouse=True)
def _readiness_never_drifts(request):
    """After every test that wrote through the services, the stored sign-off status and
    readiness equal what the one SQL definition computes (what `check_readiness` checks)."""
    database = _database_fixture(request)
    if database is None:
        yield
        return
    request.getfixturevalue(database)
    yield
    from approvals.management.commands.check_readiness import drift

    items, releases = drift()
    assert not items, f"stored item status drifted: {items}"
    assert not releases, f"stored release readiness drifted: {releases}"
