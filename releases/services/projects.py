"""Projects and their members."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from config.domain import UNSET, Conflict, Forbidden, Invalid, NotFound, clean_text

from .. import permissions
from ..audit import Changes, audit_record
from ..models import AuditAction, Project, ProjectMembership


def project_create(*, actor: User, name: str, slug: str = "", description: str = "") -> Project:
    if not permissions.can_create_project(actor):
        raise Forbidden(_("Only administrators can create projects."), code="forbidden")
    name = clean_text("name", name, max_length=200, required=True)
    slug = (slug or slugify(name))[:100]
    if not slug or slugify(slug) != slug:
        raise Invalid.field("slug", _("Use lowercase letters, digits and hyphens."))
    description = clean_text("description", description, max_length=10000)
    taken = Invalid.field("slug", _("The slug %(slug)s is taken.") % {"slug": repr(slug)}, code="slug_taken")
    with transaction.atomic():
        if Project.objects.filter(slug=slug).exists():
            raise taken
        try:
            with transaction.atomic():
                project = Project.objects.create(name=name, slug=slug, description=description)
        except IntegrityError:
            raise taken from None
        audit_record(
            action=AuditAction.PROJECT_CREATED, actor=actor, target=project, after={"name": name, "slug": slug}
        )
    return project


def project_update(*, project: Project, actor: User, name: Any = UNSET, description: Any = UNSET) -> Project:
    permissions.check_project_admin(actor, project)
    tracked = Changes(project, ("name", "description"))
    if name is not UNSET:
        project.name = clean_text("name", name, max_length=200, required=True)
    if description is not UNSET:
        project.description = clean_text("description", description, max_length=10000)
    with transaction.atomic():
        project.save()
        tracked.take()
        audit_record(
            action=AuditAction.PROJECT_UPDATED, actor=actor, target=project, before=tracked.before, after=tracked.after
        )
    return project


def project_member_add(
    *, project: Project, actor: User, user: User, role: str = ProjectMembership.Role.MEMBER
) -> ProjectMembership:
    permissions.check_project_admin(actor, project)
    if role not in ProjectMembership.Role.values:
        raise Invalid.field("role", f"Either {' or '.join(ProjectMembership.Role.values)}.")
    with transaction.atomic():
        membership, created = ProjectMembership.objects.select_for_update().get_or_create(
            project=project, user=user, defaults={"role": role}
        )
        before = None if created else {"role": membership.role}
        if not created and membership.role != role:
            if membership.role == ProjectMembership.Role.ADMIN:
                _require_another_admin(project=project, user=user)
            membership.role = role
            membership.save(update_fields=["role"])
        audit_record(
            action=AuditAction.PROJECT_MEMBER_ADDED,
            actor=actor,
            target=project,
            before=before,
            after={"user": user.get_username(), "role": role},
        )
    return membership


def _require_another_admin(*, project: Project, user: User) -> None:
    """A project keeps at least one administrator: someone must be able to add members and
    create releases without calling the site's staff (inside the caller's transaction)."""
    admins = list(
        ProjectMembership.objects.select_for_update()
        .filter(project=project, role=ProjectMembership.Role.ADMIN)
        .values_list("user_id", flat=True)
    )
    if admins == [user.pk]:
        raise Conflict(
            _("%(user)s is the project's last administrator; make someone else an administrator first.")
            % {"user": user.get_username()},
            code="last_project_admin",
        )


def project_member_remove(*, project: Project, actor: User, user: User) -> None:
    permissions.check_project_admin(actor, project)
    with transaction.atomic():
        _require_another_admin(project=project, user=user)
        deleted, _by_model = ProjectMembership.objects.filter(project=project, user=user).delete()
        if not deleted:
            raise NotFound(_("Not a member of this project."), code="not_found")
        audit_record(
            action=AuditAction.PROJECT_MEMBER_REMOVED,
            actor=actor,
            target=project,
            before={"user": user.get_username()},
        )
