"""The suite runs against the real services; these show each one answering."""

from django.core.mail import send_mail
from django.db import connection

from config.celery import ping


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
