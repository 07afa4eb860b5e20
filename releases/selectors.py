"""Reads of releases that cross relations or filter by permission."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, IntegerField, Max, OuterRef, Q, QuerySet, Subquery

from checklists.models import ChecklistTemplate
from config.sqlcache import Prepared, PreparedRows, together

from . import permissions
from .models import AuditEvent, FreezeWindow, Phase, Project, ProjectMembership, Release, ReleaseTemplate
from .permissions import AnyUser


def release_list(*, user: AnyUser) -> QuerySet[Release]:
    """Visible releases as the API and pages show them (with_details on the rows read)."""
    return permissions.releases_visible_to(user, releases_full())


def _release_list_query(key: Any, user_id: int) -> QuerySet[Release]:
    User = get_user_model()
    return release_list(user=User(pk=user_id, is_active=True, is_superuser=key))


_RELEASE_LIST = Prepared(_release_list_query, arity=1)


def release_list_prepared(*, user: AnyUser) -> PreparedRows | None:
    """release_list's rows (count and pages) by queries compiled once per kind of user."""
    if not permissions.is_active(user):
        return None
    return PreparedRows(_RELEASE_LIST, bool(user.is_superuser), user.pk)


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


def freeze_window_occurrences(
    window: FreezeWindow, *, after: dt.datetime, count: int = 3
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The next `count` (start, end) of a weekly window, in its own zone, not yet over at
    `after` (the one under way first); one that ends past midnight ends the next day."""
    assert window.weekday is not None
    assert window.start_time
    assert window.end_time
    tz = ZoneInfo(window.timezone)
    day = after.astimezone(tz).date() - dt.timedelta(days=1)
    day += dt.timedelta(days=(window.weekday - day.weekday()) % 7)
    found: list[tuple[dt.datetime, dt.datetime]] = []
    while len(found) < count:
        start = dt.datetime.combine(day, window.start_time, tzinfo=tz)
        end_day = day if window.end_time > window.start_time else day + dt.timedelta(days=1)
        end = dt.datetime.combine(end_day, window.end_time, tzinfo=tz)
        if end > after:
            found.append((start, end))
        day += dt.timedelta(days=7)
    return found


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


def releases_full() -> QuerySet[Release]:
    """Releases with readiness and their project's name, not narrowed to what a user sees:
    read one through access_release, then with_details. The name is a subquery, not a join:
    a count of these rows (the list's) then reads the releases alone."""
    name = Project.objects.filter(pk=OuterRef("project_id")).values("name")[:1]
    return Release.objects.annotate(project_name=Subquery(name))


# with_details' reads, compiled once (config.sqlcache): for any number of releases.
_STAKEHOLDERS = Prepared(
    lambda key, ids: Release.stakeholders.through.objects.filter(release_id__any=ids).values_list(
        "release_id", "user_id"
    ),
    arity=1,
)
_PHASES = Prepared(lambda key, ids: Phase.objects.filter(release_id__any=ids).order_by("order", "id"), arity=1)
_TEMPLATE_USES = Prepared(
    lambda key, ids: (
        ReleaseTemplate.objects.filter(release_id__any=ids)
        .select_related("template")
        .only("release_id", "slug", "template__id", "template__version", "template__name")
    ),
    arity=1,
)


def with_details(releases: list[Release]) -> list[Release]:
    """What a release shows beyond its row, for a page of releases in four queries sent
    together (one round trip), read as plain ids and rows (Django's prefetch machinery cost ~3x the queries themselves):
    `manager_ids`, `stakeholder_ids`, `phase_list`, `template_uses`."""
    if not releases:
        return releases
    ids = [release.pk for release in releases]
    manager_rows, stakeholder_rows, phase_rows, use_rows = together(
        (permissions.MANAGER_IDS, None, (ids,)),
        (_STAKEHOLDERS, None, (ids,)),
        (_PHASES, None, (ids,)),
        (_TEMPLATE_USES, None, (ids,)),
    )
    managers = permissions.managers_by_release(manager_rows)
    stakeholders: dict[int, list[int]] = defaultdict(list)
    for release_id, user_id in stakeholder_rows:
        stakeholders[release_id].append(user_id)
    phases: dict[int, list[Phase]] = defaultdict(list)
    for phase in phase_rows:
        phases[phase.release_id].append(phase)
    uses: dict[int, list[ReleaseTemplate]] = defaultdict(list)
    for use in use_rows:
        uses[use.release_id].append(use)
    for release in releases:
        release.manager_ids = managers.get(release.pk, [])  # type: ignore[attr-defined]
        release.stakeholder_ids = stakeholders[release.pk]  # type: ignore[attr-defined]
        release.phase_list = phases[release.pk]  # type: ignore[attr-defined]
        release.template_uses = uses[release.pk]  # type: ignore[attr-defined]
    return releases


def audit_for_release(release: Release) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(release=release).order_by("-created_at", "-id")


def memberships_of(project: Project) -> QuerySet[ProjectMembership]:
    return ProjectMembership.objects.filter(project=project).select_related("user").order_by("user__username")


def projects_with_role(user: AnyUser) -> QuerySet[Project]:
    """Projects annotated with the user's own role in each (or None), not narrowed to those
    the user sees: read one through access_project."""
    role = ProjectMembership.objects.filter(project=OuterRef("pk"), user=user).values("role")
    return Project.objects.annotate(my_role=Subquery(role[:1]))


def projects_for(user: AnyUser) -> QuerySet[Project]:
    """Visible projects, with the user's own role in each."""
    return permissions.projects_visible_to(user, projects_with_role(user)).order_by("name", "id")


# --- release pages ------------------------------------------------------------------------


def usernames(user_ids: list[int]) -> dict[int, str]:
    User = get_user_model()
    return dict(User.objects.filter(pk__in=user_ids).values_list("pk", "username"))


def release_version(release_id: int) -> int:
    """A number that grows with every change to the release or anything on it: every change
    is audited in the same transaction, so the newest audit event's id is the version (the
    release page polls it; one indexed read)."""
    newest = AuditEvent.objects.filter(release_id=release_id).order_by("-id").values_list("id", flat=True).first()
    return newest or 0


def template_upgrades(release: Release) -> list[tuple[ReleaseTemplate, int]]:
    """The release's templates that have a newer version, with that version's number.
    `release.template_uses` read by with_details."""
    uses: list[ReleaseTemplate] = release.template_uses  # type: ignore[attr-defined]
    newest = dict(
        ChecklistTemplate.objects.filter(slug__in=[use.slug for use in uses])
        .values("slug")
        .annotate(v=Max("version"))
        .values_list("slug", "v")
    )
    return [(use, newest[use.slug]) for use in uses if newest.get(use.slug, 0) > use.template.version]


def release_search_q(value: str) -> Q:
    """What searching releases looks in (the API's `search` and the release list's)."""
    return Q(name__icontains=value) | Q(version__icontains=value) | Q(description__icontains=value)


def projects_administered_by(user: AnyUser) -> QuerySet[Project]:
    """Where the user may create releases (the new-release form's projects)."""
    return permissions.projects_administered_by(user).order_by("name", "id")


# --- dashboard and sign-off queue ---


def _open_visible(user: AnyUser) -> QuerySet[Release]:
    return permissions.releases_visible_to(user, releases_full()).exclude(state__in=Release.CLOSED_STATES)


def upcoming_go_lives(*, user: AnyUser, now: dt.datetime, limit: int = 10) -> list[Release]:
    """Visible releases not closed whose go-live is ahead, soonest first."""
    return list(_open_visible(user).filter(go_live_at__gt=now).order_by("go_live_at", "id")[:limit])


def releases_at_risk(*, user: AnyUser, now: dt.datetime, limit: int = 10) -> list[Release]:
    """Visible releases not closed with required items past their due date that are not done
    and signed (`late_items`: how many), the soonest go-live first. Whether a release has
    one is a probe of the item_late_required index; only the rows shown are counted."""
    from approvals.models import ChecklistItem

    late = ChecklistItem.objects.filter(release=OuterRef("pk"), required=True, is_ready=False, due_at__lt=now)
    count = late.order_by().values("release").annotate(c=Count("pk")).values("c")
    return list(
        _open_visible(user)
        .filter(Exists(late))
        .annotate(late_items=Subquery(count, output_field=IntegerField()))
        .order_by(F("go_live_at").asc(nulls_last=True), "id")[:limit]
    )


def recent_activity(*, user: AnyUser, limit: int = 15) -> list[AuditEvent]:
    """The latest audit events on releases the user sees, with the release's name."""
    visible = permissions.releases_visible_to(user).values("pk")
    return list(
        AuditEvent.objects.filter(release__in=visible)
        .annotate(release_name=F("release__name"), release_version=F("release__version"))
        .order_by("-created_at", "-id")[:limit]
    )
