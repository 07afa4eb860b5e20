"""Reads of the notifications app that cross relations or filter by permission.

The readiness report's reads (a fixed number of queries whatever the size of the checklist)
are at the end."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, F, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from approvals.models import ChecklistItem
from approvals.selectors import checklist_items
from checklists.models import Category
from releases.models import AuditAction, AuditEvent, GoNoGoRecord, Release
from releases.permissions import releases_visible_to
from releases.selectors import releases_full, usernames, with_details

from .models import CHOOSABLE_EVENTS, CRITICAL_EVENTS, Notification, Preference, Report


def calendar_releases(user: Any) -> list[Release]:
    """The releases the person may see that have a go-live, each with `go_live_moves`: how
    many times its go-live or window end was set or moved (the calendar's SEQUENCE grows with
    it). Two queries, however many releases.

    The count comes from the audit trail rather than a counter kept on the release: every
    move is recorded there in the same transaction as the move (release_update), the trail is
    append-only (a trigger refuses UPDATE and DELETE), so the count only ever grows, as
    SEQUENCE must, and nothing else has to be kept in step with it. Only the go-live events
    are read (the action is indexed)."""
    scheduled: QuerySet[Release] = releases_visible_to(user).filter(go_live_at__isnull=False)
    releases = (
        scheduled.select_related("project")
        .only(
            "id",
            "name",
            "version",
            "state",
            "go_live_at",
            "window_end_at",
            "readiness",
            "created_at",
            "updated_at",
            "project__name",
        )
        .order_by("go_live_at", "id")
    )
    rows = list(releases)
    moves = dict(
        AuditEvent.objects.filter(action=AuditAction.RELEASE_GO_LIVE_CHANGED, release__in=scheduled.values("pk"))
        .order_by()
        .values("release_id")
        .annotate(n=Count("id"))
        .values_list("release_id", "n")
    )
    for release in rows:
        release.go_live_moves = moves.get(release.pk, 0)  # type: ignore[attr-defined]
    return rows


def inbox_of(user: Any, *, unread: bool | None = None) -> QuerySet[Notification]:
    """The person's inbox, newest first (the notification_inbox index)."""
    rows = Notification.objects.filter(user_id=user.pk, channel=Notification.Channel.INBOX)
    if unread is not None:
        rows = rows.filter(read_at__isnull=unread)
    return rows.order_by("-created_at", "-id")


def unread_count(user: Any) -> int:
    return Notification.objects.filter(
        user_id=user.pk, channel=Notification.Channel.INBOX, read_at__isnull=True
    ).count()


def preferences_of(user: Any) -> dict[str, str]:
    """How the person is told of each event they can choose about (critical ones: always
    immediately)."""
    chosen = dict(Preference.objects.filter(user_id=user.pk).values_list("event", "mode"))
    return {
        str(event): Preference.Mode.IMMEDIATE
        if event in CRITICAL_EVENTS
        else chosen.get(event, Preference.Mode.IMMEDIATE)
        for event in CHOOSABLE_EVENTS
    }


def failed_deliveries(release: Release) -> QuerySet[Notification]:
    """What could not be delivered for a release (its managers see it on the release page)."""
    return (
        Notification.objects.filter(release=release, status=Notification.Status.FAILED)
        .select_related("user")
        .order_by("-created_at", "-id")
    )


# --- readiness reports ---------------------------------------------------------------------

AUDIT_EXCERPT = 30
# Items needing attention first: blocked, then not started or under way.
FIRST_STATES = (ChecklistItem.State.BLOCKED, ChecklistItem.State.OPEN, ChecklistItem.State.IN_PROGRESS)


def reports_of(release: Release) -> QuerySet[Report]:
    """A release's reports, newest first, with the requester's name."""
    return Report.objects.filter(release=release).annotate(requested_by_username=F("requested_by__username"))


class _When:
    """Times as the report shows them (the active language and time zone), each distinct
    value formatted once (items share due dates; a 500-item report has a few dozen)."""

    def __init__(self) -> None:
        self.seen: dict[Any, str] = {}

    def __call__(self, value: dt.datetime | None, fmt: str = "DATETIME_FORMAT") -> str:
        if value is None:
            return ""
        key = (value, fmt)
        if key not in self.seen:
            self.seen[key] = formats.date_format(timezone.localtime(value), fmt)
        return self.seen[key]


def _register(items: list[Any], when: _When) -> list[dict[str, Any]]:
    """Every sign-off of the checklist, standing or not, with what happened to it."""
    out = []
    for item in items:
        for s in item.signoff_list:
            if s.revoked_at:
                status = _("revoked %(when)s: %(reason)s") % {"when": when(s.revoked_at), "reason": s.revoked_reason}
            elif s.stale:
                status = _("stale (given for an earlier version of the item)")
            elif s.counts_now:
                status = _("counts")
            else:
                status = _("does not count (separation of duties)")
            out.append({
                "item": item.title, "approver": s.approver_username, "signed_by": s.signed_by_username,
                "on_behalf": s.signed_by_id != s.approver_id, "role": s.role_name,
                "decision": s.get_decision_display(), "rejected": s.decision == s.Decision.REJECT,
                "when": when(s.created_at), "comment": s.comment, "status": status,
                "standing": bool(s.counts_now) and not s.revoked_at,
            })  # fmt: skip
    return out


def _categories(items: list[Any]) -> list[dict[str, Any]]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        groups[item.category].append(item)
    labels = dict(Category.choices)
    out = []
    for category in [c for c in Category.values if c in groups]:
        rows = groups[category]
        required = [i for i in rows if i.required]
        ready = sum(1 for i in required if i.is_ready)
        out.append({
            "label": labels[category], "items": len(rows), "required": len(required), "ready": ready,
            "percent": ready * 100 // len(required) if required else 100,
        })  # fmt: skip
    return out


def _row(item: Any, when: _When, states: dict[str, Any]) -> dict[str, Any]:
    if item.approver_role_id and item.required_signoffs:
        signoffs = f"{item.valid_approvals}/{item.required_signoffs} {item.approver_role_name}"
    else:
        signoffs = "—"
    return {
        "title": item.title, "category": item.get_category_display(), "state": states[item.state],
        "state_code": item.state, "required": item.required, "assignee": item.assignee_username or "",
        "due": when(item.due_at, "SHORT_DATE_FORMAT"), "overdue": bool(item.overdue), "signoffs": signoffs,
        "ready": item.is_ready, "rejected": item.has_rejection, "blocked_reason": item.blocked_reason,
    }  # fmt: skip


def _record(release: Release, when: _When) -> dict[str, Any] | None:
    record = GoNoGoRecord.objects.filter(release=release).order_by("-decided_at", "-id").first()
    if record is None:
        return None
    snap = record.snapshot
    signoffs = [{**s, "when": when(dt.datetime.fromisoformat(s["decided_at"]))} for s in snap.get("signoffs", [])]
    return {"record": record, "when": when(record.decided_at), "signoffs": signoffs,
            "freeze_override": snap.get("freeze_override")}  # fmt: skip


def report_context(release_id: int, *, audit_limit: int = AUDIT_EXCERPT) -> dict[str, Any]:
    """Everything the report template shows, in the active language and time zone."""
    release = with_details([releases_full().get(pk=release_id)])[0]
    people = usernames([*release.manager_ids, *release.stakeholder_ids])  # type: ignore[attr-defined]
    when = _When()
    states = dict(ChecklistItem.State.choices)
    items = list(checklist_items().filter(release_id=release_id).order_by("order", "id"))
    first = sorted(
        (i for i in items if i.state in FIRST_STATES), key=lambda i: (FIRST_STATES.index(i.state), i.order, i.pk)
    )
    rest = [i for i in items if i.state not in FIRST_STATES]
    labels = dict(AuditAction.choices)
    audit = [
        {"when": when(e.created_at), "actor": e.actor_name or _("system"),
         "action": labels.get(e.action, e.action), "target": e.target_repr}
        for e in release.audit_events.order_by("-created_at", "-id")[:audit_limit]
    ]  # fmt: skip
    return {
        "release": release,
        "go_live": when(release.go_live_at),
        "window_end": when(release.window_end_at),
        "approved_at": when(release.approved_at),
        "managers": [people.get(pk, "?") for pk in release.manager_ids],  # type: ignore[attr-defined]
        "stakeholders": [people.get(pk, "?") for pk in release.stakeholder_ids],  # type: ignore[attr-defined]
        "categories": _categories(items),
        "first": [_row(i, when, states) for i in first],
        "rest": [_row(i, when, states) for i in rest],
        "item_count": len(items),
        "register": _register(items, when),
        "phases": [
            {
                "name": p.name,
                "production": p.production,
                "state": p.get_state_display(),
                "started": when(p.started_at),
                "finished": when(p.finished_at),
            }
            for p in release.phase_list  # type: ignore[attr-defined]
        ],
        "audit": audit,
        "gonogo": _record(release, when),
        "generated_at": when(timezone.now()),
    }


def checklist_rows_for_csv(release_id: int) -> QuerySet[ChecklistItem]:
    """A release's items with the columns the CSV export writes, names annotated."""
    return (
        ChecklistItem.objects.filter(release_id=release_id)
        .annotate(assignee_username=F("assignee__username"), approver_role_name=F("approver_role__name"))
        .only(
            "category", "title", "required", "state", "due_at", "required_signoffs", "valid_approvals",
            "evidence_url", "order", "approver_role_id", "is_signed",
        )
        .order_by("order", "id")
    )  # fmt: skip
