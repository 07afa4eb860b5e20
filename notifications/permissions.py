"""Who reaches what of the notifications app. Release and project rules are
releases.permissions'; these build on them.

- The calendar feed has no signed-in user: the secret key in its URL names the person, and
  the feed shows what that person may see. An inbox entry is its person's only.
- Audiences and announcements: an audience of a project is managed by the project's
  administrators and by the managers of its releases; a global audience (no project) by
  staff; the managers of a release also see (and send to) the global audiences; an
  announcement is seen by whoever sees its release, made by the release's managers, to an
  audience of the release's project or a global one.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from config.domain import Forbidden, NotFound
from releases.models import Project, Release
from releases.permissions import (
    AnyUser,
    administers_any_project,
    manages_any_release,
    projects_administered_by,
    releases_managed_by,
    releases_visible_to,
)

from .models import Announcement, Audience, Notification, Report


def access_calendar(token: str) -> User:
    """The person whose calendar feed the key opens: NotFound for a key that is unknown,
    rotated away, or a deactivated person's."""
    user = (
        User.objects.filter(profile__calendar_token=token, is_active=True).select_related("profile").first()
        if token
        else None
    )
    if user is None:
        raise NotFound(_("Not found."), code="not_found")
    return user


def access_notification(user: User, pk: object) -> Notification:
    """One of the person's own inbox entries; anyone else's is NotFound."""
    found = Notification.objects.filter(pk=pk if isinstance(pk, int) else -1, user_id=user.pk, channel="inbox").first()
    if found is None:
        raise NotFound(_("Not found."), code="not_found")
    return found


def access_report(user: AnyUser | None, pk: Any) -> Report:
    """The report `pk`, if the user may see its release (NotFound otherwise), with its
    release and the requester's name."""
    found = (
        Report.objects.filter(pk=pk, release__in=releases_visible_to(user).values("pk"))
        .select_related("release", "requested_by")
        .first()
    )
    if found is None:
        raise NotFound(_("Not found."), code="not_found")
    return found


# --- audiences and announcements -----------------------------------------------------------


def _is_active(user: AnyUser | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _is_staff(user: AnyUser | None) -> bool:
    return _is_active(user) and bool(user.is_staff or user.is_superuser)  # type: ignore[union-attr]


def audiences_managed_by(user: AnyUser | None) -> QuerySet[Audience]:
    if not _is_active(user):
        return Audience.objects.none()
    if _is_staff(user):
        return Audience.objects.all()
    administered = projects_administered_by(user).values("pk")
    managed = releases_managed_by(user).values("project_id")
    return Audience.objects.filter(Q(project__in=administered) | Q(project__in=managed))


def audiences_visible_to(user: AnyUser | None) -> QuerySet[Audience]:
    """Those they manage, and the global ones for anybody who manages a release or
    administers a project (they may send to them)."""
    if not _is_active(user):
        return Audience.objects.none()
    if _is_staff(user):
        return Audience.objects.all()
    managed = audiences_managed_by(user)
    if not (releases_managed_by(user).exists() or projects_administered_by(user).exists()):
        return managed
    return Audience.objects.filter(Q(pk__in=managed.values("pk")) | Q(project__isnull=True))


def audience_manager(user_id: Any) -> Any:
    """As an expression (the user an id or an OuterRef): project administrators and release
    managers manage audiences (staff too, checked apart). The middleware reads it with the
    profile, so that the navigation's "Audiences" costs no query of its own."""
    return administers_any_project(user_id) | manages_any_release(user_id)


def manages_any_audience(user: AnyUser | None) -> bool:
    """Whether the navigation shows "Audiences": staff, project administrators, release managers."""
    if not _is_active(user):
        return False
    if _is_staff(user):
        return True
    return Project.objects.filter(audience_manager(user.pk)).exists()  # type: ignore[union-attr]


def can_manage_audience(user: AnyUser | None, audience: Audience) -> bool:
    return audiences_managed_by(user).filter(pk=audience.pk).exists()


def can_manage_audience_of(user: AnyUser | None, project_id: int | None) -> bool:
    """Whether the user may make an audience of that project (None: a global one)."""
    if project_id is None:
        return _is_staff(user)
    return (
        _is_staff(user)
        or projects_administered_by(user).filter(pk=project_id).exists()
        or releases_managed_by(user).filter(project_id=project_id).exists()
    )


def access_audience(user: AnyUser | None, pk: Any, *, manage: bool = False) -> Audience:
    """The audience `pk` as the user may reach it: NotFound when they may not see it,
    Forbidden when `manage` and they may not manage it."""
    found = audiences_visible_to(user).filter(pk=pk).select_related("project").first()
    if found is None:
        raise NotFound(_("Not found."), code="not_found")
    if manage and not can_manage_audience(user, found):
        raise Forbidden(_("Only staff can change a global audience."), code="not_audience_manager")
    return found


def audiences_for_release(user: AnyUser | None, release: Release) -> QuerySet[Audience]:
    """The audiences the user may announce the release to: its project's and the global ones."""
    return audiences_visible_to(user).filter(Q(project_id=release.project_id) | Q(project__isnull=True))


def announcements_visible_to(user: AnyUser | None) -> QuerySet[Announcement]:
    return Announcement.objects.filter(release__in=releases_visible_to(user))


def access_announcement(user: AnyUser | None, pk: Any) -> Announcement:
    found = announcements_visible_to(user).filter(pk=pk).select_related("release", "audience").first()
    if found is None:
        raise NotFound(_("Not found."), code="not_found")
    return found
