"""Reads of releases that cross relations or filter by permission."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery

from . import permissions
from .models import AuditEvent, FreezeWindow, Phase, Project, ProjectMembership, Release, ReleaseTemplate
from .permissions import AnyUser


def release_list(*, user: AnyUser) -> QuerySet[Release]:
    """Visible releases with their stored readiness and their project's name."""
    return permissions.releases_visible_to(user, Release.objects.annotate(project_name=F("project__name")))


def freeze_windows_for(project_id: int | None) -> QuerySet[FreezeWindow]:
    return FreezeWindow.objects.filter(Q(project__isnull=True) | Q(project_id=project_id))


def _weekly_hits(window: FreezeWindow, start: dt.datetime, end: dt.datetime) -> bool:
    assert window.weekday is not None
    assert window.start_time
    assert window.end_time
    tz = ZoneInfo(window.timezone)
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    day = local_start.date() - dt.timedelta(days=1)
    while day <= local_end.date():
        if day.weekday() == window.weekday:
            ws = dt.datetime.combine(day, window.start_time, tzinfo=tz)
            we_day = day if window.end_time > window.start_time else day + dt.timedelta(days=1)
            we = dt.datetime.combine(we_day, window.end_time, tzinfo=tz)
            if ws < end and start < we:
                return True
        day += dt.timedelta(days=1)
    return False


def freeze_windows_hit(
    *, project_id: int | None, start: dt.datetime, end: dt.datetime | None = None
) -> list[FreezeWindow]:
    """The freeze windows (global and the project's) that the deployment [start, end] touches."""
    end = end if end and end > start else start + dt.timedelta(microseconds=1)
    hits = []
    for window in freeze_windows_for(project_id).order_by("name", "id"):
        if window.is_weekly:
            if _weekly_hits(window, start, end):
                hits.append(window)
        elif window.starts_at and window.ends_at and window.starts_at < end and start < window.ends_at:
            hits.append(window)
    return hits


def release_get(*, user: AnyUser, pk: int) -> Release | None:
    return release_list(user=user).filter(pk=pk).first()


def release_list_full(*, user: AnyUser) -> QuerySet[Release]:
    """Visible releases as the API and pages show them."""
    return permissions.releases_visible_to(user, releases_full())


def releases_full() -> QuerySet[Release]:
    """Releases as the API and pages show them: readiness, project name, people (by id),
    phases, templates. Not narrowed to what a user sees: read one through access_release."""
    return Release.objects.annotate(project_name=F("project__name")).prefetch_related(
        permissions.managers_prefetch(),
        Prefetch("stakeholders", queryset=get_user_model().objects.only("id"), to_attr="stakeholder_list"),
        Prefetch("phases", queryset=Phase.objects.order_by("order", "id"), to_attr="phase_list"),
        Prefetch(
            "applied_templates",
            queryset=ReleaseTemplate.objects.select_related("template").only(
                "release_id", "slug", "template__id", "template__version", "template__name"
            ),
            to_attr="template_uses",
        ),
    )


def audit_for_release(release: Release) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(release=release).order_by("-created_at", "-id")


def memberships_of(project: Project) -> QuerySet[ProjectMembership]:
    return ProjectMembership.objects.filter(project=project).select_related("user").order_by("user__username")


def projects_for(user: AnyUser) -> QuerySet[Project]:
    """Visible projects, annotated with the user's own role in each (or None)."""
    role = ProjectMembership.objects.filter(project=OuterRef("pk"), user=user).values("role")[:1]
    return permissions.projects_visible_to(user).annotate(my_role=Subquery(role)).order_by("name", "id")
