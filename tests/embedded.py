"""Runs a script under `make run`'s embedded default (SQLite, Celery tasks in-process, e-mail
written to files), for the tests of what only that default does. The suite's database is
PostgreSQL, so the script runs the app's own settings in a subprocess on a fresh SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# Before the script: Django set up on SQLite and migrated (`connection` and `settings` in scope).
SETUP = r"""
import json
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.db import connection

assert connection.vendor == "sqlite", connection.vendor
call_command("migrate", verbosity=0)
"""


def run_embedded(script: str, tmp_path: Path) -> Any:
    """The script's last line of output, read as JSON; its e-mails go to `tmp_path / "mail"`."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "EMAIL_URL")}
    env.update(
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
    )
    result = subprocess.run(
        [sys.executable, "-c", SETUP + script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
