"""Takes the README's screenshots: the demo data (`manage.py demo`) plus a 300-item release,
served by runserver on a scratch SQLite database, photographed by Debian's Chromium.

    .venv/bin/python docs/screenshots/take.py      # writes docs/screenshots/*.png
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
PORT = 8019


def prepare(env: dict[str, str]) -> None:
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    script = """
from approvals.models import ChecklistItem
from approvals.services.status import status_store_all
from checklists.models import Category
from releases.models import Project
from releases.scenario import Scenario
import datetime as dt
from django.utils import timezone

from django.contrib.auth.models import User
s = Scenario(users={u.username: u for u in User.objects.all()})
release = s.create(Project.objects.get(slug="billing"), "Billing", "4.0", ["release-readiness", "deployment-plan"],
                   by="manager", go_live_at=timezone.now() + dt.timedelta(days=20), rollback_plan="Redeploy 3.2.")
s.start(release, by="manager")
categories = Category.values
have = release.items.count()
ChecklistItem.objects.bulk_create([
    ChecklistItem(release=release, title=f"Regression check {n}", category=categories[n % len(categories)],
                  order=have + n, required=n % 3 != 0, is_adhoc=True, required_signoffs=0,
                  state=["open", "in_progress", "done", "blocked"][n % 4],
                  blocked_reason="Waiting for the vendor" if n % 4 == 3 else "",
                  due_at=timezone.now() + dt.timedelta(days=n % 25 - 5))
    for n in range(300 - have)
])
status_store_all()
print(release.pk)
"""
    out = subprocess.run([*manage, "shell", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr)
    env["BIG_RELEASE"] = out.stdout.strip().splitlines()[-1]


def shoot(env: dict[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    base = f"http://127.0.0.1:{PORT}"
    big = env["BIG_RELEASE"]
    shots = [
        ("manager", "dashboard", "/"),
        ("manager", "releases", "/releases/"),
        ("manager", "release", "/releases/1/"),
        ("manager", "release-300-items", f"/releases/{big}/"),
        ("manager", "new-release", "/releases/new/"),
        ("qa", "signoff-queue", "/signoffs/"),
        ("qa", "item", "/items/1/"),
        ("admin", "template-editor", "/templates/1/edit/"),
        ("qa", "inbox", "/inbox/"),
        ("admin", "mail", "/mail/"),
        ("manager", "audiences", "/audiences/"),
    ]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
        for width, suffix in ((1280, ""), (360, "-phone")):
            pages = {}
            for who, name, path in shots:
                if suffix and name not in ("dashboard", "release", "item"):
                    continue
                if who not in pages:
                    page = browser.new_page(viewport={"width": width, "height": 900})
                    page.goto(f"{base}/accounts/login/")
                    page.fill("#id_username", who)
                    page.fill("#id_password", f"{who}-demo")
                    page.click("button[type=submit]")
                    pages[who] = page
                pages[who].goto(base + path)
                pages[who].screenshot(path=str(OUT / f"{name}{suffix}.png"), full_page=name != "release-300-items")
        browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp}/shots.sqlite3", "MEDIA_ROOT": tmp}
        env.pop("REDIS_URL", None)
        prepare(env)
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(3)
            shoot(env)
        finally:
            server.terminate()


if __name__ == "__main__":
    main()
