"""`manage.py check_readiness [--fix]`: recompute every item's sign-off status and every
release's readiness from the one SQL definition and compare them with what the services
stored. Drift is printed and makes the command fail; `--fix` stores the computed values."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from approvals.models import ChecklistItem
from approvals.selectors import STATUS_FIELDS, readiness_drift, status_drift
from approvals.services.status import checklist_refresh
from releases.models import Release
from releases.state import lock_release


def drift() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(items, releases) whose stored status or readiness differs from the computed one."""
    items = [
        {
            "item": row["pk"],
            "release": row["release_id"],
            "stored": tuple(row[f] for f in STATUS_FIELDS),
            "computed": tuple(row[f"computed_{f}"] for f in STATUS_FIELDS),
        }
        for row in status_drift()
        .order_by("pk")
        .values("pk", "release_id", *STATUS_FIELDS, *(f"computed_{f}" for f in STATUS_FIELDS))
    ]
    return items, readiness_drift()


class Command(BaseCommand):
    help = "Compare the stored sign-off status and readiness with the computed ones; --fix repairs them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fix", action="store_true", help="Store the computed values where they differ.")

    def handle(self, *args: Any, **options: Any) -> None:
        items, releases = drift()
        fields = ", ".join(STATUS_FIELDS)
        for row in items:
            self.stdout.write(
                f"item {row['item']} (release {row['release']}): stored ({fields}) = {row['stored']}, "
                f"computed {row['computed']}"
            )
        for row in releases:
            self.stdout.write(
                f"release {row['release']}: stored (required_total, required_ready, readiness) = {row['stored']}, "
                f"computed {row['computed']}"
            )
        checked = f"{ChecklistItem.objects.count()} items, {Release.objects.count()} releases checked"
        if not items and not releases:
            self.stdout.write(self.style.SUCCESS(f"No drift: {checked}."))
            return
        if not options["fix"]:
            raise CommandError(
                f"Drift in {len(items)} item(s) and {len(releases)} release(s) ({checked}); "
                "run with --fix to store the computed values."
            )
        for pk in sorted({row["release"] for row in items} | {row["release"] for row in releases}):
            with transaction.atomic():
                release = lock_release(Release(pk=pk))
                checklist_refresh(release=release)
        self.stdout.write(self.style.SUCCESS(f"Fixed {len(items)} item(s) and {len(releases)} release(s)."))
