"""Start-up refuses lease settings under which a slow SMTP server would make a message go out
twice: a send still waiting when its lease runs out is handed to another worker by the sweeper."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _check(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "1", "SECRET_KEY": "x", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EMAIL_TIMEOUT": "90"}, "NOTIFICATION_LEASE_SECONDS must be longer than EMAIL_TIMEOUT"),
        ({"EMAIL_TIMEOUT": "40", "ANNOUNCEMENT_LEASE_SECONDS": "60"}, "ANNOUNCEMENT_LEASE_SECONDS must be more"),
    ],
)
def test_a_lease_shorter_than_a_slow_send_is_refused_at_start_up(env, message):
    result = _check(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_the_default_leases_start():
    result = _check()
    assert result.returncode == 0, result.stderr
