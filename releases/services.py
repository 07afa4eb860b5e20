"""Every write to projects, releases, phases and freeze windows.

The release state machine lives here: `release_transition` is the only way a release
changes state (phases going live call it too), and a refused transition lists every unmet
condition.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from approvals.selectors import required_items_not_ready
from approvals.services import (
    checklist_apply_template,
    checklist_sync_flags,
    items_recompute_due,
    release_reopen_if_not_ready,
    release_require_manage,
)
from checklists.models import ChecklistTemplate
from config.domain import UNSET, Conflict, Forbidden, Invalid, NotFound, clean_text, failure

from . import permissions
from .audit import audit_record, snapshot
from .models import FreezeWindow, Phase, Project, ProjectMembership, Release
from .selectors import freeze_windows_hit
from .state import release_set_state

S = Release.State
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.DRAFT: (S.IN_PROGRESS, S.CANCELLED),
    S.IN_PROGRESS: (S.APPROVED, S.CANCELLED),
    S.APPROVED: (S.IN_PROGRESS, S.LIVE, S.CANCELLED),
    S.LIVE: (S.COMPLETED, S.ROLLED_BACK),
    S.COMPLETED: (),
    S.CANCELLED: (),
    S.ROLLED_BACK: (),
}
NOT_YET_LIVE = (S.DRAFT, S.IN_PROGRESS, S.APPROVED)
FLAG_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
RELEASE_AUDITED = (
    "name",
    "version",
    "description",
    "go_live_at",
    "window_end_at",
    "git_ref",
    "rollback_plan",
    "flags",
    "allow_self_signoff",
    "stakeholder_emails",
)


# --- projects ----------------------------------------------------------------------------


def project_create(*, actor: Any, name: str, slug: str = "", description: str = "") -> Project:
    if not permissions.can_create_project(actor):
        raise Forbidden("Only administrators can create projects.", code="forbidden")
    name = clean_text("name", name, max_length=200, required=True)
    slug = (slug or slugify(name))[:100]
    if not slug or slugify(slug) != slug:
        raise Invalid.field("slug", "Use lowercase letters, digits and hyphens.")
    with transaction.atomic():
        if Project.objects.filter(slug=slug).exists():
            raise Invalid.field("slug", f"The slug {slug!r} is taken.", code="slug_taken")
        try:
            with transaction.atomic():
                project = Project.objects.create(
                    name=name, slug=slug, description=clean_text("description", description, max_length=10000)
                )
        except IntegrityError:
            raise Invalid.field("slug", f"The slug {slug!r} is taken.", code="slug_taken") from None
        audit_record(action="project.created", actor=actor, target=project, after={"name": name, "slug": slug})
    return project


def _require_project_admin(*, actor: Any, project: Project) -> None:
    if not permissions.can_view_project(actor, project):
        raise NotFound("Project not found.", code="not_found")
    if not permissions.can_administer_project(actor, project):
        raise Forbidden("Only the project's administrators can do this.", code="not_project_admin")


def project_update(*, project: Project, actor: Any, name: Any = UNSET, description: Any = UNSET) -> Project:
    _require_project_admin(actor=actor, project=project)
    before = snapshot(project, ("name", "description"))
    if name is not UNSET:
        project.name = clean_text("name", name, max_length=200, required=True)
    if description is not UNSET:
        project.description = clean_text("description", description, max_length=10000)
    with transaction.atomic():
        project.save()
        audit_record(
            action="project.updated",
            actor=actor,
            target=project,
            before=before,
            after=snapshot(project, ("name", "description")),
        )
    return project


def project_member_add(
    *, project: Project, actor: Any, user: Any, role: str = ProjectMembership.Role.MEMBER
) -> ProjectMembership:
    _require_project_admin(actor=actor, project=project)
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
            action="project.member_added",
            actor=actor,
            target=project,
            before=before,
            after={"user": user.get_username(), "role": role},
        )
    return membership


def _require_another_admin(*, project: Project, user: Any) -> None:
    """A project keeps at least one administrator: someone must be able to add members and
    create releases without calling the site's staff (inside the caller's transaction)."""
    admins = list(
        ProjectMembership.objects.select_for_update()
        .filter(project=project, role=ProjectMembership.Role.ADMIN)
        .values_list("user_id", flat=True)
    )
    if admins == [user.pk]:
        raise Conflict(
            f"{user.get_username()} is the project's last administrator; make someone else an administrator first.",
            code="last_project_admin",
        )


def project_member_remove(*, project: Project, actor: Any, user: Any) -> None:
    _require_project_admin(actor=actor, project=project)
    with transaction.atomic():
        _require_another_admin(project=project, user=user)
        deleted, _ = ProjectMembership.objects.filter(project=project, user=user).delete()
        if not deleted:
            raise NotFound("Not a member of this project.", code="not_found")
        audit_record(action="project.member_removed", actor=actor, target=project, before={"user": user.get_username()})


# --- releases ----------------------------------------------------------------------------


def _aware(name: str, value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime) or timezone.is_naive(value):
        raise Invalid.field(name, "A date and time with a time zone (ISO 8601 with offset).", code="naive_datetime")
    return value


def _clean_flags(flags: Any) -> list[str]:
    if not isinstance(flags, list | tuple) or not all(isinstance(f, str) and FLAG_RE.fullmatch(f) for f in flags):
        raise Invalid.field("flags", "A list of flag names (lowercase letters, digits, underscores).")
    return sorted(set(flags))


def _clean_emails(emails: Any) -> list[str]:
    if not isinstance(emails, list | tuple):
        raise Invalid.field("stakeholder_emails", "A list of e-mail addresses.")
    out = []
    for email in emails:
        try:
            if not isinstance(email, str) or len(email) > 254:
                raise ValidationError("bad")
            validate_email(email.strip())
        except ValidationError:
            raise Invalid.field("stakeholder_emails", f"Not an e-mail address: {str(email)[:100]!r}.") from None
        out.append(email.strip().lower())
    return sorted(set(out))


def _check_schedule(release: Release, go_live_at: dt.datetime | None, window_end_at: dt.datetime | None) -> None:
    if go_live_at is not None and release.state in NOT_YET_LIVE and go_live_at <= timezone.now():
        raise Invalid.field("go_live_at", "The go-live must be in the future.", code="go_live_in_past")
    if window_end_at is not None:
        if go_live_at is None:
            raise Invalid.field("window_end_at", "Set the go-live first.")
        if window_end_at < go_live_at:
            raise Invalid.field("window_end_at", "The deployment window can't end before the go-live.")


def _resolve_templates(templates: Any) -> list[ChecklistTemplate]:
    """Template slugs (newest version) or ids."""
    if not isinstance(templates, list | tuple):
        raise Invalid.field("templates", "A list of template slugs or ids.")
    out: list[ChecklistTemplate] = []
    for ref in templates:
        template = None
        if isinstance(ref, ChecklistTemplate):
            template = ref
        elif isinstance(ref, int) and not isinstance(ref, bool):
            template = ChecklistTemplate.objects.filter(pk=ref).first()
        elif isinstance(ref, str) and len(ref) <= 100:
            template = ChecklistTemplate.objects.filter(slug=ref).order_by("-version").first()
            if template is None and ref.isdigit() and len(ref) < 18:
                template = ChecklistTemplate.objects.filter(pk=int(ref)).first()
        if template is None:
            raise Invalid.field("templates", f"Unknown template {str(ref)[:100]!r}.", code="unknown_template")
        if template.slug in {t.slug for t in out}:
            raise Invalid.field("templates", f"The template {template.slug!r} is listed twice.")
        out.append(template)
    return out


def _set_people(release: Release, *, actor: Any, managers: Any, stakeholders: Any) -> dict[str, Any]:
    """Managers get `manage_release`, stakeholders `view_release`; returns what changed."""
    changes: dict[str, Any] = {}
    if managers is not UNSET:
        wanted = {u.pk: u for u in managers}
        if not wanted:
            raise Invalid.field("managers", "A release needs at least one manager.")
        current = {u.pk: u for u in permissions.release_managers(release)}
        for pk, user in wanted.items():
            if pk not in current:
                permissions.grant_manage(user, release)
        for pk, user in current.items():
            if pk not in wanted:
                permissions.revoke_manage(user, release)
        if set(wanted) != set(current):
            changes["managers"] = (
                {u.get_username() for u in current.values()},
                {u.get_username() for u in wanted.values()},
            )
    if stakeholders is not UNSET:
        wanted = {u.pk: u for u in stakeholders}
        current = {u.pk: u for u in release.stakeholders.all()}
        for pk, user in wanted.items():
            if pk not in current:
                permissions.grant_view(user, release)
        for pk, user in current.items():
            if pk not in wanted:
                permissions.revoke_view(user, release)
        release.stakeholders.set(list(wanted.values()))
        if set(wanted) != set(current):
            changes["stakeholders"] = (
                {u.get_username() for u in current.values()},
                {u.get_username() for u in wanted.values()},
            )
    return {k: (sorted(a), sorted(b)) for k, (a, b) in changes.items()}


def release_create(
    *,
    actor: Any,
    project: Project,
    name: str,
    version: str = "",
    description: str = "",
    go_live_at: dt.datetime | None = None,
    window_end_at: dt.datetime | None = None,
    git_ref: str = "",
    rollback_plan: str = "",
    flags: Any = (),
    templates: Any = (),
    managers: Any = UNSET,
    stakeholders: Any = UNSET,
    stakeholder_emails: Any = (),
    allow_self_signoff: bool = False,
) -> Release:
    """A new draft release in a project, its checklist made from the given templates. The
    creator manages it (with any other managers named)."""
    _require_project_admin(actor=actor, project=project)
    release = Release(
        project=project,
        name=clean_text("name", name, max_length=200, required=True),
        version=clean_text("version", version, max_length=100),
        description=clean_text("description", description, max_length=20000),
        go_live_at=_aware("go_live_at", go_live_at),
        window_end_at=_aware("window_end_at", window_end_at),
        git_ref=clean_text("git_ref", git_ref, max_length=200),
        rollback_plan=clean_text("rollback_plan", rollback_plan, max_length=20000),
        flags=_clean_flags(flags),
        stakeholder_emails=_clean_emails(stakeholder_emails),
        allow_self_signoff=bool(allow_self_signoff),
        created_by=actor,
    )
    _check_schedule(release, release.go_live_at, release.window_end_at)
    chosen = _resolve_templates(templates)
    with transaction.atomic():
        release.save()
        permissions.grant_manage(actor, release)
        audit_record(
            action="release.created",
            actor=actor,
            target=release,
            release=release,
            after=snapshot(release, RELEASE_AUDITED),
        )
        people = _set_people(
            release,
            actor=actor,
            managers=UNSET if managers is UNSET else [actor, *managers],
            stakeholders=stakeholders,
        )
        if people:
            audit_record(
                action="release.people_changed",
                actor=actor,
                target=release,
                release=release,
                before={k: v[0] for k, v in people.items()},
                after={k: v[1] for k, v in people.items()},
            )
        if release.allow_self_signoff:
            audit_record(
                action="release.self_signoff_relaxed",
                actor=actor,
                target=release,
                release=release,
                after={"allow_self_signoff": True},
            )
        for template in chosen:
            checklist_apply_template(release=release, template=template, actor=actor)
    return release


def release_update(
    *,
    release: Release,
    actor: Any,
    name: Any = UNSET,
    version: Any = UNSET,
    description: Any = UNSET,
    go_live_at: Any = UNSET,
    window_end_at: Any = UNSET,
    git_ref: Any = UNSET,
    rollback_plan: Any = UNSET,
    flags: Any = UNSET,
    allow_self_signoff: Any = UNSET,
    managers: Any = UNSET,
    stakeholders: Any = UNSET,
    stakeholder_emails: Any = UNSET,
    templates: Any = UNSET,
) -> Release:
    """Change a release. Moving the go-live recomputes the due dates of unfinished items and
    sends an approved release back to in_progress; changed flags add (or drop untouched)
    conditional items; `templates` (all the release's templates: those applied and those to
    add) applies the new ones."""
    release_require_manage(actor=actor, release=release)
    clean: dict[str, Any] = {}
    new_templates = [] if templates is UNSET else _templates_to_add(release, templates)
    if name is not UNSET:
        clean["name"] = clean_text("name", name, max_length=200, required=True)
    if version is not UNSET:
        clean["version"] = clean_text("version", version, max_length=100)
    if description is not UNSET:
        clean["description"] = clean_text("description", description, max_length=20000)
    if git_ref is not UNSET:
        clean["git_ref"] = clean_text("git_ref", git_ref, max_length=200)
    if rollback_plan is not UNSET:
        clean["rollback_plan"] = clean_text("rollback_plan", rollback_plan, max_length=20000)
    if go_live_at is not UNSET:
        clean["go_live_at"] = _aware("go_live_at", go_live_at)
    if window_end_at is not UNSET:
        clean["window_end_at"] = _aware("window_end_at", window_end_at)
    if flags is not UNSET:
        clean["flags"] = _clean_flags(flags)
    if stakeholder_emails is not UNSET:
        clean["stakeholder_emails"] = _clean_emails(stakeholder_emails)
    if allow_self_signoff is not UNSET:
        if not isinstance(allow_self_signoff, bool):
            raise Invalid.field("allow_self_signoff", "Must be true or false.")
        clean["allow_self_signoff"] = allow_self_signoff
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release.pk)
        if release.state in (S.COMPLETED, S.CANCELLED, S.ROLLED_BACK):
            raise Conflict(f"The release is {release.state}; it can't change.", code="release_closed")
        if release.state == S.LIVE and "flags" in clean and set(clean["flags"]) != set(release.flags):
            raise Conflict(
                "The release is live: its flags, and the checklist they chose, stay as approved.",
                code="release_live",
            )
        before = snapshot(release, RELEASE_AUDITED)
        schedule_changed = ("go_live_at" in clean and clean["go_live_at"] != release.go_live_at) or (
            "window_end_at" in clean and clean["window_end_at"] != release.window_end_at
        )
        if schedule_changed:
            # Clearing the go-live clears the deployment window end too (before the check,
            # which would otherwise refuse a window end without a go-live).
            if (
                "go_live_at" in clean
                and clean["go_live_at"] is None
                and release.window_end_at
                and "window_end_at" not in clean
            ):
                clean["window_end_at"] = None
            _check_schedule(
                release,
                clean.get("go_live_at", release.go_live_at),
                clean.get("window_end_at", release.window_end_at),
            )
        for field, value in clean.items():
            setattr(release, field, value)
        release.save()
        after = snapshot(release, RELEASE_AUDITED)
        changed = [f for f in RELEASE_AUDITED if before[f] != after[f]]
        people = _set_people(release, actor=actor, managers=managers, stakeholders=stakeholders)
        if changed:
            audit_record(
                action="release.updated",
                actor=actor,
                target=release,
                release=release,
                before={f: before[f] for f in changed},
                after={f: after[f] for f in changed},
            )
        if people:
            audit_record(
                action="release.people_changed",
                actor=actor,
                target=release,
                release=release,
                before={k: v[0] for k, v in people.items()},
                after={k: v[1] for k, v in people.items()},
            )
        if "allow_self_signoff" in changed:
            audit_record(
                action="release.self_signoff_relaxed"
                if release.allow_self_signoff
                else "release.self_signoff_restored",
                actor=actor,
                target=release,
                release=release,
                before={"allow_self_signoff": before["allow_self_signoff"]},
                after={"allow_self_signoff": release.allow_self_signoff},
            )
        if "flags" in changed:
            result = checklist_sync_flags(release=release, actor=actor)
            audit_record(
                action="release.flags_changed",
                actor=actor,
                target=release,
                release=release,
                before={"flags": before["flags"]},
                after={"flags": release.flags, **result},
            )
        if schedule_changed:
            items_recompute_due(release=release)
            audit_record(
                action="release.go_live_changed",
                actor=actor,
                target=release,
                release=release,
                before={"go_live_at": before["go_live_at"], "window_end_at": before["window_end_at"]},
                after={"go_live_at": after["go_live_at"], "window_end_at": after["window_end_at"]},
            )
            if release.state == S.APPROVED:
                release_set_state(
                    release,
                    actor=actor,
                    to=S.IN_PROGRESS,
                    reason="The go-live moved after approval; the go/no-go must be taken again.",
                )
        elif release.state == S.APPROVED and changed:
            release_reopen_if_not_ready(release=release, actor=actor, why=f"Release changed: {', '.join(changed)}")
        for template in new_templates:
            checklist_apply_template(release=release, template=template, actor=actor)
    return release


def _templates_to_add(release: Release, templates: Any) -> list[ChecklistTemplate]:
    """The templates of a release update: every applied one must still be listed (a
    template's items, worked or signed, stay with the release), a newer version of an
    applied one is the upgrade's business; the others are added."""
    chosen = _resolve_templates(templates)
    applied = {use.slug: use.template for use in release.applied_templates.select_related("template")}
    listed = {t.slug: t for t in chosen}
    missing = sorted(set(applied) - set(listed))
    if missing:
        raise Invalid.field(
            "templates",
            f"Applied templates can't be taken off a release (their items stay): list {', '.join(missing)} too.",
            code="template_removal",
        )
    for ref, template in zip(templates, chosen, strict=True):
        by_slug = isinstance(ref, str) and ref == template.slug
        if template.slug in applied and not by_slug and template.pk != applied[template.slug].pk:
            raise Invalid.field(
                "templates",
                f"The release uses version {applied[template.slug].version} of {template.slug!r}; "
                "move to another version with template-upgrade.",
                code="template_version",
            )
    return [t for slug, t in listed.items() if slug not in applied]


def _item_failures(item: Any) -> list[dict[str, Any]]:
    """Why a required item is not ready, with what a release manager needs to chase it: where
    it is, who has it, what blocks it, who rejected it and why, which approvals went stale."""
    where = f"{item.title} [{' · '.join(p for p in (item.section, item.source_slug) if p)}]"
    about = {
        "item": item.pk,
        "title": item.title,
        "section": item.section,
        "template": item.source_slug or None,
        "state": item.state,
        "assignee": item.assignee.get_username() if item.assignee else None,
    }
    who = f"assigned to {about['assignee']}" if about["assignee"] else "not assigned"
    out = []
    if item.state not in (item.State.DONE, item.State.NOT_APPLICABLE):
        blocked = f" ({item.blocked_reason})" if item.state == item.State.BLOCKED and item.blocked_reason else ""
        out.append(
            failure(
                "item_not_done",
                f"Not done: {where} is {item.get_state_display().lower()}{blocked}, {who}.",
                blocked_reason=item.blocked_reason or None,
                **about,
            )
        )
    if item.has_rejection:
        rejection = (
            item.signoffs.filter(decision="reject", revoked_at__isnull=True, completion_seq=item.completion_seq)
            .select_related("approver")
            .last()
        )
        by = rejection.approver.get_username() if rejection else "?"
        comment = rejection.comment if rejection else ""
        out.append(
            failure(
                "item_rejected",
                f"Rejected by {by}: {where}: \u201c{comment}\u201d. It stands until the item is done again.",
                rejected_by=by,
                comment=comment,
                **about,
            )
        )
    elif item.needs_signoff and item.valid_approvals < item.required_signoffs:
        role = item.approver_role.name if item.approver_role else "?"
        stale = (
            item.signoffs.filter(decision="approve", revoked_at__isnull=True)
            .exclude(item_revision=item.revision)
            .count()
        )
        note = f"; {stale} earlier approval(s) went stale when the item changed" if stale else ""
        out.append(
            failure(
                "signoff_missing",
                f"Sign-off missing: {where} has {item.valid_approvals} of {item.required_signoffs} from {role}{note}.",
                have=item.valid_approvals,
                need=item.required_signoffs,
                role=role,
                stale=stale,
                **about,
            )
        )
    return out


def approval_failures(release: Release, *, actor: Any, override_freeze: bool, reason: str) -> list[dict[str, Any]]:
    """Every unmet condition for the go/no-go (moving to `approved`)."""
    failures = []
    if not release.items.exists():
        failures.append(failure("empty_checklist", "The release has no checklist items."))
    not_ready: list[Any] = list(required_items_not_ready(release.pk))  # annotated rows
    for item in not_ready:
        failures.extend(_item_failures(item))
    if release.go_live_at is None:
        failures.append(failure("go_live_missing", "No go-live date is set."))
    elif release.go_live_at <= timezone.now():
        failures.append(failure("go_live_in_past", "The go-live date is in the past."))
    if not release.rollback_plan.strip():
        failures.append(failure("rollback_plan_missing", "There is no rollback plan."))
    if release.go_live_at is not None:
        hits = freeze_windows_hit(project_id=release.project_id, start=release.go_live_at, end=release.window_end_at)
        overridden = override_freeze and permissions.can_override_freeze(actor) and reason.strip()
        if hits and not overridden:
            for window in hits:
                failures.append(
                    failure(
                        "freeze_window",
                        f"The go-live falls in the freeze window {window.name!r}.",
                        freeze_window=window.pk,
                    )
                )
            if override_freeze and not permissions.can_override_freeze(actor):
                failures.append(failure("override_not_permitted", "You may not override a freeze window."))
            if override_freeze and not reason.strip():
                failures.append(failure("override_reason_missing", "Overriding a freeze window needs a reason."))
    return failures


def release_transition(
    *, release: Release, actor: Any, to: str, reason: str = "", override_freeze: bool = False
) -> Release:
    """Move a release through its states. A refused move raises Conflict listing every unmet
    condition (`failures`)."""
    release_require_manage(actor=actor, release=release)
    if to not in S.values:
        raise Invalid.field(
            "to", f"Unknown state {str(to)[:50]!r}; one of: {', '.join(S.values)}.", code="unknown_state"
        )
    reason = clean_text("reason", reason, max_length=10000)
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release.pk)
        if to not in TRANSITIONS[release.state]:
            raise Conflict(
                f"A release can't go from {release.state} to {to}.",
                code="invalid_transition",
                failures=[
                    failure(
                        "invalid_transition",
                        f"Allowed from {release.state}: {', '.join(TRANSITIONS[release.state]) or 'nothing'}.",
                    )
                ],
            )
        failures: list[dict[str, Any]] = []
        extra: dict[str, Any] = {}
        if to == S.APPROVED:
            # Lock the items so no sign-off or item change slips in during the decision.
            list(release.items.select_for_update().values_list("pk", flat=True))
            failures = approval_failures(release, actor=actor, override_freeze=override_freeze, reason=reason)
            if not failures and override_freeze and release.go_live_at:
                hits = freeze_windows_hit(
                    project_id=release.project_id, start=release.go_live_at, end=release.window_end_at
                )
                if hits:
                    release.freeze_override_reason = reason
                    extra = {"freeze_override": [w.name for w in hits]}
        elif to == S.COMPLETED:
            for phase in release.phases.exclude(state=Phase.State.DONE):
                failures.append(
                    failure("phase_not_done", f"Phase not done: {phase.name} ({phase.state}).", phase=phase.pk)
                )
        elif to == S.ROLLED_BACK and not reason:
            failures.append(failure("reason_required", "Say why the release was rolled back."))
        if failures:
            raise Conflict(
                f"The release can't move to {to}: {len(failures)} unmet condition(s).",
                code="transition_refused",
                failures=failures,
            )
        release_set_state(release, actor=actor, to=to, reason=reason, extra=extra)
    return release


# --- phases ------------------------------------------------------------------------------

PHASE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    Phase.State.PENDING: (Phase.State.IN_PROGRESS,),
    Phase.State.IN_PROGRESS: (Phase.State.DONE, Phase.State.ROLLED_BACK),
    Phase.State.DONE: (Phase.State.ROLLED_BACK,),
    Phase.State.ROLLED_BACK: (Phase.State.IN_PROGRESS,),
}


def phase_create(
    *, release: Release, actor: Any, name: str, production: bool = True, order: int | None = None
) -> Phase:
    release_require_manage(actor=actor, release=release)
    name = clean_text("name", name, max_length=200, required=True)
    if order is not None and (isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= 10000):
        raise Invalid.field("order", "A whole number from 0 to 10000.")
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release.pk)
        if release.state in (S.COMPLETED, S.CANCELLED, S.ROLLED_BACK):
            raise Conflict(f"The release is {release.state}; it can't change.", code="release_closed")
        if order is None:
            order = (release.phases.aggregate(m=Max("order"))["m"] or 0) + 1
        try:
            with transaction.atomic():
                phase = Phase.objects.create(release=release, name=name, production=bool(production), order=order)
        except IntegrityError:
            raise Invalid.field(
                "order", f"The release has a phase at position {order} already.", code="order_taken"
            ) from None
        audit_record(
            action="phase.created",
            actor=actor,
            target=phase,
            release=release,
            after={"name": name, "order": order, "production": phase.production},
        )
    return phase


def phase_transition(*, phase: Phase, actor: Any, to: str) -> Phase:
    """Move a deployment phase. Starting the first production phase takes an approved
    release live."""
    release_require_manage(actor=actor, release=phase.release)
    if to not in Phase.State.values:
        raise Invalid.field("to", f"Unknown phase state {str(to)[:50]!r}.", code="unknown_state")
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=phase.release_id)
        phase = Phase.objects.select_for_update().get(pk=phase.pk)
        if to not in PHASE_TRANSITIONS[phase.state]:
            raise Conflict(
                f"A phase can't go from {phase.state} to {to}.",
                code="invalid_transition",
                failures=[failure("invalid_transition", f"Phase {phase.name} is {phase.state}.")],
            )
        if release.state in (S.COMPLETED, S.CANCELLED, S.ROLLED_BACK):
            raise Conflict(f"The release is {release.state}.", code="release_closed")
        if to == Phase.State.IN_PROGRESS and phase.production and release.state not in (S.APPROVED, S.LIVE):
            raise Conflict(
                "A production phase can start only once the release is approved.",
                code="transition_refused",
                failures=[failure("release_not_approved", f"Release state is {release.state}.")],
            )
        before = phase.state
        now = timezone.now()
        phase.state = to
        if to == Phase.State.IN_PROGRESS:
            phase.started_at, phase.finished_at = now, None
        else:
            phase.finished_at = now
        phase.save()
        audit_record(
            action=f"phase.{to}",
            actor=actor,
            target=phase,
            release=release,
            before={"state": before},
            after={"state": to, "phase": phase.name},
        )
        if to == Phase.State.IN_PROGRESS and phase.production and release.state == S.APPROVED:
            release_set_state(release, actor=actor, to=S.LIVE, reason=f"Production phase started: {phase.name}")
    return phase


# --- freeze windows ----------------------------------------------------------------------

FREEZE_FIELDS = ("name", "project", "starts_at", "ends_at", "weekday", "start_time", "end_time", "timezone", "reason")


def _clean_freeze(window: FreezeWindow) -> None:
    window.name = clean_text("name", window.name, max_length=200, required=True)
    window.reason = clean_text("reason", window.reason, max_length=10000)
    try:
        ZoneInfo(window.timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise Invalid.field("timezone", f"Unknown time zone {str(window.timezone)[:64]!r}.") from None
    one_off = window.starts_at is not None or window.ends_at is not None
    weekly = window.weekday is not None or window.start_time is not None or window.end_time is not None
    if one_off and weekly:
        raise Invalid.field(
            "non_field_errors",
            "A freeze window is either one-off (starts_at, ends_at) or weekly (weekday, start_time, end_time).",
        )
    if one_off:
        _aware("starts_at", window.starts_at)
        _aware("ends_at", window.ends_at)
        if window.starts_at is None or window.ends_at is None:
            raise Invalid.field(
                "ends_at" if window.starts_at else "starts_at", "A one-off window needs a start and an end."
            )
        if window.ends_at <= window.starts_at:
            raise Invalid.field("ends_at", "The end must be after the start.")
    elif weekly:
        if isinstance(window.weekday, bool) or not isinstance(window.weekday, int) or not 0 <= window.weekday <= 6:
            raise Invalid.field("weekday", "0 (Monday) to 6 (Sunday).")
        for name in ("start_time", "end_time"):
            if not isinstance(getattr(window, name), dt.time):
                raise Invalid.field(name, "A time of day.")
        if window.start_time == window.end_time:
            raise Invalid.field("end_time", "The end must differ from the start.")
    else:
        raise Invalid.field(
            "non_field_errors", "Give either starts_at and ends_at, or weekday, start_time and end_time."
        )


def _require_freeze_admin(actor: Any) -> None:
    if not permissions.can_manage_freeze_windows(actor):
        raise Forbidden("Only administrators can change freeze windows.", code="forbidden")


def freeze_window_create(
    *,
    actor: Any,
    name: str,
    project: Project | None = None,
    starts_at: Any = None,
    ends_at: Any = None,
    weekday: Any = None,
    start_time: Any = None,
    end_time: Any = None,
    timezone_name: str = "UTC",
    reason: str = "",
) -> FreezeWindow:
    _require_freeze_admin(actor)
    window = FreezeWindow(
        name=name,
        project=project,
        starts_at=starts_at,
        ends_at=ends_at,
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        timezone=timezone_name,
        reason=reason,
    )
    _clean_freeze(window)
    with transaction.atomic():
        window.save()
        audit_record(action="freeze_window.created", actor=actor, target=window, after=snapshot(window, FREEZE_FIELDS))
    return window


def freeze_window_update(*, window: FreezeWindow, actor: Any, **changes: Any) -> FreezeWindow:
    _require_freeze_admin(actor)
    changes = {k: v for k, v in changes.items() if v is not UNSET}
    if "timezone_name" in changes:
        changes["timezone"] = changes.pop("timezone_name")
    unknown = set(changes) - set(FREEZE_FIELDS)
    if unknown:
        raise Invalid.field(sorted(unknown)[0], "Unknown field.")
    with transaction.atomic():
        window = FreezeWindow.objects.select_for_update().get(pk=window.pk)
        before = snapshot(window, FREEZE_FIELDS)
        for name, value in changes.items():
            setattr(window, name, value)
        _clean_freeze(window)
        window.save()
        audit_record(
            action="freeze_window.updated",
            actor=actor,
            target=window,
            before=before,
            after=snapshot(window, FREEZE_FIELDS),
        )
    return window


def freeze_window_delete(*, window: FreezeWindow, actor: Any) -> None:
    _require_freeze_admin(actor)
    with transaction.atomic():
        audit_record(action="freeze_window.deleted", actor=actor, target=window, before=snapshot(window, FREEZE_FIELDS))
        window.delete()
