"""Keeping the stored sign-off status and readiness true. Every service that changes what
they depend on (an item's state, evidence, text, assignee, quorum, whether it is required;
a sign-off or its revocation; the release's self-sign-off relaxation; items added or
removed) calls `checklist_refresh` in the same transaction, with the release row locked, so
concurrent sign-offs on one release are counted one after the other. The values come from
the one SQL definition (approvals.selectors.computed_status); `check_readiness` compares."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from releases.models import Release

from ..models import ChecklistItem, SignOff
from ..selectors import (
    STATUS_FIELDS,
    computed_status,
    has_rejection_expr,
    readiness_percent,
    ready_expr,
    required_counts,
    signed_expr,
    valid_approvals_expr,
)


def checklist_refresh(*, release: Release, items: Sequence[ChecklistItem] | None = None) -> None:
    """Store the computed status of `items` (all the release's when None; the objects given
    get the new values too) and then the release's readiness."""
    qs = ChecklistItem.objects.filter(release_id=release.pk)
    if items is not None:
        qs = qs.filter(pk__in=[item.pk for item in items])
    given = {item.pk: item for item in items or ()}
    changed = []
    for row in computed_status(qs).values("pk", *STATUS_FIELDS, *(f"computed_{f}" for f in STATUS_FIELDS)):
        values = {f: row[f"computed_{f}"] for f in STATUS_FIELDS}
        obj = given.get(row["pk"])
        if obj is not None:
            for name, value in values.items():
                setattr(obj, name, value)
        if any(row[f] != values[f] for f in STATUS_FIELDS):
            changed.append(ChecklistItem(pk=row["pk"], **values))
    if changed:
        ChecklistItem.objects.bulk_update(changed, STATUS_FIELDS)
    release_refresh_readiness(release)


def release_refresh_readiness(release: Release) -> None:
    """The release's readiness from its items' stored status."""
    rows = list(required_counts(ChecklistItem.objects.filter(release_id=release.pk)))
    counts = rows[0] if rows else {"total": 0, "ready": 0}
    values = {
        "required_total": counts["total"],
        "required_ready": counts["ready"],
        "readiness": readiness_percent(ready=counts["ready"], total=counts["total"]),
    }
    Release.objects.filter(pk=release.pk).update(**values)
    for name, value in values.items():
        setattr(release, name, value)


def status_store_all(*, items: Any = ChecklistItem, signoffs: Any = SignOff, releases: Any = Release) -> None:
    """Every item's status and every release's readiness, set-based: after a bulk load, and
    in the migration that added the columns (which passes its own models)."""
    items.objects.update(valid_approvals=valid_approvals_expr(signoffs), has_rejection=has_rejection_expr(signoffs))
    items.objects.update(is_signed=signed_expr(), is_ready=ready_expr())
    counts = required_counts(items.objects.all())
    releases.objects.update(required_total=0, required_ready=0, readiness=0)
    for row in counts:
        releases.objects.filter(pk=row["release"]).update(
            required_total=row["total"],
            required_ready=row["ready"],
            readiness=readiness_percent(ready=row["ready"], total=row["total"]),
        )
