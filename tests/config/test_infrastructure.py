"""The suite runs against the real services; these show each one answering. And the rows the
migrations make are there for every test, whatever ran before it."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.mail import send_mail
from django.core.management import call_command
from django.db import connection

from checklists.models import ChecklistTemplate
from checklists.services import APPROVER_ROLES
from config.celery import ping
from tests.factories import UserFactory

BUILTIN_TEMPLATES = {"deployment-plan", "nasazeni-do-produkce", "release-readiness"}


def test_database_is_postgresql(postgresql):
    assert connection.vendor == "postgresql"


def test_celery_worker_answers_through_redis(celery_worker):
    assert ping.delay().get(timeout=30) == "pong"


def test_email_reaches_the_smtp_receiver(smtp_server):
    send_mail("Release approved", "Billing 2.0 is approved.", "shipcheck@example.com", ["cto@example.com"])
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["Subject"] == "Release approved"
    assert "Billing 2.0 is approved." in message.get_content()


def _builtin_data():
    return (
        set(Group.objects.filter(name__in=APPROVER_ROLES).values_list("name", flat=True)),
        set(ChecklistTemplate.objects.filter(is_builtin=True).values_list("slug", flat=True)),
    )


@pytest.mark.django_db(transaction=True)
def test_the_flush_that_ends_a_transactional_test_leaves_the_builtin_roles_and_templates():
    UserFactory(username="gone")

    # What TransactionTestCase does after each test (tests/conftest.py puts the rows back).
    call_command("flush", verbosity=0, interactive=False, reset_sequences=False)

    assert not get_user_model().objects.exists()
    assert _builtin_data() == (set(APPROVER_ROLES), BUILTIN_TEMPLATES)


def test_a_database_test_run_after_the_transactional_ones_finds_the_builtin_data(request):
    """pytest-django runs the database tests, then the transactional ones (each ending in a
    flush), then the rest. This test asks for the database only as it runs, so it is sorted
    with the rest: after every transactional test of the run."""
    request.getfixturevalue("db")

    assert _builtin_data() == (set(APPROVER_ROLES), BUILTIN_TEMPLATES)
