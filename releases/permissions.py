"""Who may see and do what with projects and releases. The only module that talks to
django-guardian (object permissions on releases).

- view a release: project members, users granted `view_release` on it (stakeholders,
  assignees' viewers), its managers (`manage_release`), superusers.
- manage a release: users granted `manage_release` on it, superusers.
- create releases in a project / add members: project administrators, staff.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from config.domain import Forbidden, NotFound
from config.sqlcache import Prepared, id_value

from .models import FreezeWindow, Phase, Project, ProjectMembership, Release, ReleaseUserObjectPermission

# A user, an anonymous user or None: the checks accept whatever a request carries.
AnyUser = Any

VIEW = "view_release"
MANAGE = "manage_release"
OVERRIDE_FREEZE = "releases.override_freeze"


def is_active(user: AnyUser | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


# The ids of the release permissions, read once per process: the rows are made by migrate and
# never change after; a flush (tests) makes them anew, and post_migrate empties this.
_PERMISSION_IDS: dict[tuple[str, ...], list[int]] = {}


def forget_permission_ids(**kwargs: Any) -> None:
    _PERMISSION_IDS.clear()


def _permission_ids(codenames: tuple[str, ...]) -> list[int]:
    ids = _PERMISSION_IDS.get(codenames)
    if not ids:
        found = Permission.objects.filter(
            codename__in=codenames, content_type__app_label="releases", content_type__model="release"
        )
        ids = _PERMISSION_IDS[codenames] = sorted(found.values_list("id", flat=True))
    return ids


def _perm_rows(*, codenames: tuple[str, ...]) -> QuerySet[ReleaseUserObjectPermission]:
    """Grants of these permissions on releases (by permission id: no join per read)."""
    return ReleaseUserObjectPermission.objects.filter(permission_id__in=_permission_ids(codenames))


# --- releases ----------------------------------------------------------------------------


def releases_visible_to(user: AnyUser | None, queryset: QuerySet[Release] | None = None) -> QuerySet[Release]:
    """The releases (of `queryset`, all by default) the user may see."""
    qs = Release.objects.all() if queryset is None else queryset
    if not is_active(user):
        return qs.none()
    if user.is_superuser:  # type: ignore[union-attr]
        return qs
    # IN rather than EXISTS per row: PostgreSQL reads each set once (hashed), and the query is
    # cheaper to build and to plan (make bench: the list's count and page, every access_release).
    projects = ProjectMembership.objects.filter(user=user).values("project_id")
    granted = _perm_rows(codenames=(VIEW, MANAGE)).filter(user=user).values("content_object_id")
    return qs.filter(Q(project_id__in=projects) | Q(pk__in=granted))


def releases_managed_by(user: AnyUser | None) -> QuerySet[Release]:
    if not is_active(user):
        return Release.objects.none()
    if user.is_superuser:  # type: ignore[union-attr]
        return Release.objects.all()
    granted = _perm_rows(codenames=(MANAGE,)).filter(user=user).values("content_object_id")
    return Release.objects.filter(pk__in=granted)


def manages_any_release(user_id: Any) -> Exists:
    """Whether the user (an id or an OuterRef) manages some release, as an expression for a
    query that reads it with other things (the page's navigation; no cached ids needed)."""
    return Exists(
        ReleaseUserObjectPermission.objects.filter(
            user_id=user_id,
            permission__codename=MANAGE,
            permission__content_type__app_label="releases",
        )
    )


def administers_any_project(user_id: Any) -> Exists:
    return Exists(ProjectMembership.objects.filter(user_id=user_id, role=ProjectMembership.Role.ADMIN))


def can_view_release(user: AnyUser | None, release: Release) -> bool:
    return releases_visible_to(user).filter(pk=release.pk).exists()


def can_manage_release(user: AnyUser | None, release: Release) -> bool:
    return releases_managed_by(user).filter(pk=release.pk).exists()


def release_managers(release: Release) -> QuerySet:
    User = get_user_model()
    return User.objects.filter(
        Exists(_perm_rows(codenames=(MANAGE,)).filter(content_object=release, user=OuterRef("pk")))
    ).order_by("username")


def users_who_can_view(release: Release) -> QuerySet:
    User = get_user_model()
    member = ProjectMembership.objects.filter(project=release.project_id, user=OuterRef("pk"))
    granted = _perm_rows(codenames=(VIEW, MANAGE)).filter(content_object=release, user=OuterRef("pk"))
    return User.objects.filter(is_active=True).filter(Q(Exists(member)) | Q(Exists(granted)) | Q(is_superuser=True))


def grant_manage(user: AnyUser, release: Release) -> None:
    assign_perm(MANAGE, user, release)


def revoke_manage(user: AnyUser, release: Release) -> None:
    remove_perm(MANAGE, user, release)


def grant_view(user: AnyUser, release: Release) -> None:
    assign_perm(VIEW, user, release)


def revoke_view(user: AnyUser, release: Release) -> None:
    remove_perm(VIEW, user, release)


def require_manager(user: AnyUser | None, release: Release) -> None:
    """Forbidden unless the user manages the release (they see it: checked before)."""
    if not can_manage_release(user, release):
        raise Forbidden(_("Only the release's managers can do this."), code="not_release_manager")


def check_release(user: AnyUser | None, release: Release, *, manage: bool = False) -> None:
    """NotFound unless the user can see the release; with `manage`, Forbidden unless they
    manage it."""
    if not can_view_release(user, release):
        raise NotFound(_("Release not found."), code="not_found")
    if manage:
        require_manager(user, release)


ReleaseSelector = Callable[[], QuerySet[Release]]


def _visible_release_query(key: Any, user_id: int, pk: int) -> QuerySet[Release]:
    selector, superuser = key
    user = get_user_model()(pk=user_id, is_active=True, is_superuser=superuser)
    return releases_visible_to(user, selector() if selector else None).filter(pk=pk)[:1]


# access_release's read, compiled once per selector and kind of user (config.sqlcache).
_VISIBLE_RELEASE = Prepared(_visible_release_query, arity=2)


def access_release(
    user: AnyUser | None,
    pk: Any,
    *,
    manage: bool = False,
    queryset: QuerySet[Release] | ReleaseSelector | None = None,
) -> Release:
    """The release `pk` as the user may reach it (read through `queryset`, a selector's, when
    given): NotFound when they may not see it, Forbidden when `manage` and they may not
    manage it. A selector given as the function that makes its queryset (or none) is read by
    a query compiled once (releases_visible_to's, all the same)."""
    if queryset is None or callable(queryset):
        found, number = None, id_value(Release._meta.pk, pk)
        if is_active(user) and number is not None:
            key = (queryset, bool(user.is_superuser))  # type: ignore[union-attr]
            found = _VISIBLE_RELEASE.first(key, user.pk, number)  # type: ignore[union-attr]
    else:
        found = releases_visible_to(user, queryset).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("Not found."), code="not_found")
    if manage:
        require_manager(user, found)
    return found


def access_phase(user: AnyUser | None, pk: Any) -> Phase:
    phase = Phase.objects.filter(pk=pk, release__in=releases_visible_to(user)).select_related("release").first()
    if phase is None:
        raise NotFound(_("Not found."), code="not_found")
    return phase


def can_override_freeze(user: AnyUser | None) -> bool:
    return is_active(user) and user.has_perm(OVERRIDE_FREEZE)  # type: ignore[union-attr]


# --- projects ----------------------------------------------------------------------------


def projects_visible_to(user: AnyUser | None, queryset: QuerySet[Project] | None = None) -> QuerySet[Project]:
    """The projects (of `queryset`, all by default) the user may see."""
    qs = Project.objects.all() if queryset is None else queryset
    if not is_active(user):
        return qs.none()
    if user.is_superuser or user.is_staff:  # type: ignore[union-attr]
        return qs
    return qs.filter(Exists(ProjectMembership.objects.filter(project=OuterRef("pk"), user=user)))


def can_view_project(user: AnyUser | None, project: Project) -> bool:
    return projects_visible_to(user).filter(pk=project.pk).exists()


def projects_administered_by(user: AnyUser | None) -> QuerySet[Project]:
    """The projects in which the user creates releases and manages members: staff all."""
    if not is_active(user):
        return Project.objects.none()
    if user.is_superuser or user.is_staff:  # type: ignore[union-attr]
        return Project.objects.all()
    admins = ProjectMembership.objects.filter(user=user, role=ProjectMembership.Role.ADMIN)
    return Project.objects.filter(pk__in=admins.values("project_id"))


def can_administer_project(user: AnyUser | None, project: Project) -> bool:
    """Create releases in it and manage its members."""
    return projects_administered_by(user).filter(pk=project.pk).exists()


def can_create_project(user: AnyUser | None) -> bool:
    return is_active(user) and (user.is_staff or user.is_superuser)  # type: ignore[union-attr]


def access_project(
    user: AnyUser | None, pk: Any, *, admin: bool = False, queryset: QuerySet[Project] | None = None
) -> Project:
    """The project `pk` as the user may reach it: NotFound when they may not see it,
    Forbidden when `admin` and they don't administer it."""
    found = projects_visible_to(user, queryset).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("Not found."), code="not_found")
    if admin:
        _require_project_admin(user, found)
    return found


def _require_project_admin(user: AnyUser | None, project: Project) -> None:
    if not can_administer_project(user, project):
        raise Forbidden(_("Only the project's administrators can do this."), code="not_project_admin")


def check_project_admin(user: AnyUser | None, project: Project) -> None:
    if not can_view_project(user, project):
        raise NotFound(_("Project not found."), code="not_found")
    _require_project_admin(user, project)


def freeze_windows_visible_to(user: AnyUser | None) -> QuerySet[FreezeWindow]:
    """Global windows and those of the user's projects (all of them for staff)."""
    if not is_active(user):
        return FreezeWindow.objects.none()
    if user.is_staff or user.is_superuser:  # type: ignore[union-attr]
        return FreezeWindow.objects.all()
    return FreezeWindow.objects.filter(Q(project__isnull=True) | Q(project__in=projects_visible_to(user)))


def access_freeze_window(user: AnyUser | None, pk: Any) -> FreezeWindow:
    window = freeze_windows_visible_to(user).filter(pk=pk).first()
    if window is None:
        raise NotFound(_("Not found."), code="not_found")
    return window


def can_manage_freeze_windows(user: AnyUser | None) -> bool:
    return is_active(user) and (user.is_staff or user.is_superuser)  # type: ignore[union-attr]


def can_manage_templates(user: AnyUser | None) -> bool:
    return is_active(user) and (user.is_staff or user.is_superuser)  # type: ignore[union-attr]


def manager_ids_of(release_ids: list[int]) -> dict[int, list[int]]:
    """The managers (user ids, ascending) of each of the releases, in one query."""
    return managers_by_release(MANAGER_IDS.all(None, release_ids))


def managers_by_release(rows: list[tuple[int, int]]) -> dict[int, list[int]]:
    """MANAGER_IDS' rows (read with others: config.sqlcache.together) by release."""
    out: dict[int, list[int]] = {}
    for release_id, user_id in rows:
        out.setdefault(release_id, []).append(user_id)
    return out


# (release id, user id) of the managers of the releases `ids`, compiled once.
MANAGER_IDS = Prepared(
    lambda key, ids: (
        _perm_rows(codenames=(MANAGE,))
        .filter(content_object_id__any=ids)
        .order_by("user_id")
        .values_list("content_object_id", "user_id")
    ),
    arity=1,
)
