"""Reads of the notifications app that cross relations or filter by permission."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from releases.models import AuditAction, AuditEvent, Release
from releases.permissions import releases_visible_to

from .models import CHOOSABLE_EVENTS, CRITICAL_EVENTS, Notification, Preference


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
