"""What the service logs: a 403 is one line, a 500 keeps its traceback."""

import logging
import sys

import pytest

from config.logs import ForbiddenInALine

pytestmark = pytest.mark.django_db


def test_a_forbidden_page_is_logged_in_one_line(client, release, contributor, caplog):
    client.force_login(contributor)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(f"/releases/{release.pk}/edit/")
    assert response.status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.getMessage() == f"Forbidden (Permission denied): /releases/{release.pk}/edit/"
    assert record.exc_info is None
    assert "Traceback" not in caplog.text


def test_other_records_keep_their_traceback():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error", (), None)
        record.status_code = 500
        record.exc_info = sys.exc_info()
    assert ForbiddenInALine().filter(record)
    assert record.exc_info is not None
    assert "ValueError: boom" in logging.Formatter().format(record)
