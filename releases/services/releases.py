"""Creating and changing releases: their fields, people, flags, schedule and templates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.services import checklist_apply_template, checklist_refresh, checklist_sync_flags, items_recompute_due
from checklists.models import ChecklistTemplate
from config.domain import UNSET, Conflict, Invalid, clean_aware, clean_flags, clean_text

from .. import permissions
from ..audit import Changes, audit_record, snapshot
from ..models import AuditAction, Project, Release
from ..readiness import release_reopen_if_not_ready
from ..state import lock_release, release_set_state, require_not_closed

S = Release.State
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
SCHEDULE = ("go_live_at", "window_end_at")
TEXT_FIELDS = {"name": 200, "version": 100, "description": 20000, "git_ref": 200, "rollback_plan": 20000}


def _clean_emails(emails: Any) -> list[str]:
    if not isinstance(emails, list | tuple):
        raise Invalid.field("stakeholder_emails", _("A list of e-mail addresses."))
    out = []
    for email in emails:
        try:
            if not isinstance(email, str) or len(email) > 254:
                raise ValidationError("bad")
            validate_email(email.strip())
        except ValidationError:
            raise Invalid.field(
                "stakeholder_emails", _("Not an e-mail address: %(value)s.") % {"value": repr(str(email)[:100])}
            ) from None
        out.append(email.strip().lower())
    return sorted(set(out))


def _clean_release_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The release's own fields as given (those not UNSET), cleaned."""
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if value is UNSET:
            continue
        if name in TEXT_FIELDS:
            clean[name] = clean_text(name, value, max_length=TEXT_FIELDS[name], required=name == "name")
        elif name in SCHEDULE:
            clean[name] = clean_aware(name, value)
        elif name == "flags":
            clean[name] = clean_flags(name, value)
        elif name == "stakeholder_emails":
            clean[name] = _clean_emails(value)
        elif name == "allow_self_signoff":
            if not isinstance(value, bool):
                raise Invalid.field(name, _("Must be true or false."))
            clean[name] = value
        else:
            raise Invalid.field(name, "Unknown field.")
    return clean


def _check_schedule(release: Release, go_live_at: dt.datetime | None, window_end_at: dt.datetime | None) -> None:
    if go_live_at is not None and release.state in Release.NOT_YET_LIVE_STATES and go_live_at <= timezone.now():
        raise Invalid.field("go_live_at", _("The go-live must be in the future."), code="go_live_in_past")
    if window_end_at is not None:
        if go_live_at is None:
            raise Invalid.field("window_end_at", _("Set the go-live first."))
        if window_end_at < go_live_at:
            raise Invalid.field("window_end_at", _("The deployment window can't end before the go-live."))


def _resolve_template(ref: Any) -> ChecklistTemplate | None:
    if isinstance(ref, ChecklistTemplate):
        return ref
    if isinstance(ref, int) and not isinstance(ref, bool):
        return ChecklistTemplate.objects.filter(pk=ref).first()
    if isinstance(ref, str) and len(ref) <= 100:
        template = ChecklistTemplate.objects.filter(slug=ref).order_by("-version").first()
        if template is None and ref.isdigit() and len(ref) < 18:
            template = ChecklistTemplate.objects.filter(pk=int(ref)).first()
        return template
    return None


def _resolve_templates(templates: Any) -> list[ChecklistTemplate]:
    """Template slugs (newest version) or ids."""
    if not isinstance(templates, list | tuple):
        raise Invalid.field("templates", "A list of template slugs or ids.")
    out: list[ChecklistTemplate] = []
    for ref in templates:
        template = _resolve_template(ref)
        if template is None:
            raise Invalid.field("templates", f"Unknown template {str(ref)[:100]!r}.", code="unknown_template")
        if template.slug in {t.slug for t in out}:
            raise Invalid.field(
                "templates", _("The template %(slug)s is listed twice.") % {"slug": repr(template.slug)}
            )
        out.append(template)
    return out


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


def _sync_people(
    wanted: list[User], current: list[User], *, grant: Any, revoke: Any, release: Release
) -> tuple[list[str], list[str]] | None:
    """Grant the wanted, revoke the others; (before, after) usernames when they differ."""
    wanted_by_pk = {u.pk: u for u in wanted}
    current_by_pk = {u.pk: u for u in current}
    for pk, user in wanted_by_pk.items():
        if pk not in current_by_pk:
            grant(user, release)
    for pk, user in current_by_pk.items():
        if pk not in wanted_by_pk:
            revoke(user, release)
    if set(wanted_by_pk) == set(current_by_pk):
        return None
    return sorted(u.get_username() for u in current), sorted(u.get_username() for u in wanted_by_pk.values())


def _set_people(release: Release, *, actor: User, managers: Any, stakeholders: Any) -> None:
    """Managers get `manage_release`, stakeholders `view_release`; records what changed."""
    changes: dict[str, tuple[list[str], list[str]]] = {}
    if managers is not UNSET:
        if not managers:
            raise Invalid.field("managers", _("A release needs at least one manager."))
        current = list(permissions.release_managers(release))
        moved = _sync_people(
            list(managers),
            current,
            grant=permissions.grant_manage,
            revoke=permissions.revoke_manage,
            release=release,
        )
        if moved:
            changes["managers"] = moved
    if stakeholders is not UNSET:
        current = list(release.stakeholders.all())
        moved = _sync_people(
            list(stakeholders), current, grant=permissions.grant_view, revoke=permissions.revoke_view, release=release
        )
        release.stakeholders.set(list({u.pk: u for u in stakeholders}.values()))
        if moved:
            changes["stakeholders"] = moved
    if changes:
        audit_record(
            action=AuditAction.RELEASE_PEOPLE_CHANGED,
            actor=actor,
            target=release,
            release=release,
            before={k: v[0] for k, v in changes.items()},
            after={k: v[1] for k, v in changes.items()},
        )


def release_create(
    *,
    actor: User,
    project: Project,
    name: str,
    templates: Any = (),
    managers: Any = UNSET,
    stakeholders: Any = UNSET,
    **fields: Any,
) -> Release:
    """A new draft release in a project (`fields`: any of RELEASE_AUDITED), its checklist made
    from the given templates. The creator manages it (with any other managers named)."""
    permissions.check_project_admin(actor, project)
    clean = _clean_release_fields({"name": name, **fields})
    release = Release(project=project, created_by=actor, **clean)
    _check_schedule(release, release.go_live_at, release.window_end_at)
    chosen = _resolve_templates(templates)
    with transaction.atomic():
        release.save()
        permissions.grant_manage(actor, release)
        audit_record(
            action=AuditAction.RELEASE_CREATED,
            actor=actor,
            target=release,
            release=release,
            after=snapshot(release, RELEASE_AUDITED),
        )
        _set_people(
            release,
            actor=actor,
            managers=UNSET if managers is UNSET else [actor, *managers],
            stakeholders=stakeholders,
        )
        if release.allow_self_signoff:
            audit_record(
                action=AuditAction.RELEASE_SELF_SIGNOFF_RELAXED,
                actor=actor,
                target=release,
                release=release,
                after={"allow_self_signoff": True},
            )
        for template in chosen:
            checklist_apply_template(release=release, template=template, actor=actor)
        release.refresh_from_db()
    return release


def _apply_schedule(release: Release, clean: dict[str, Any]) -> bool:
    """Whether the go-live or window end moves; checks the new schedule. Clearing the
    go-live clears the window end too."""
    # Compared as instants: the same go-live written with another offset has not moved.
    if not any(name in clean and clean[name] != getattr(release, name) for name in SCHEDULE):
        return False
    if clean.get("go_live_at", UNSET) is None and release.window_end_at and "window_end_at" not in clean:
        clean["window_end_at"] = None
    _check_schedule(
        release, clean.get("go_live_at", release.go_live_at), clean.get("window_end_at", release.window_end_at)
    )
    return True


def _after_change(release: Release, tracked: Changes, *, actor: User, schedule_moved: bool) -> None:
    """What follows a change of the release's fields (all recorded in the audit trail)."""
    if "allow_self_signoff" in tracked:
        action = (
            AuditAction.RELEASE_SELF_SIGNOFF_RELAXED
            if release.allow_self_signoff
            else AuditAction.RELEASE_SELF_SIGNOFF_RESTORED
        )
        tracked.record(action, actor=actor, release=release, only=["allow_self_signoff"])
        checklist_refresh(release=release)  # who may count changes on every item
    if "flags" in tracked:
        result = checklist_sync_flags(release=release, actor=actor)
        tracked.record(AuditAction.RELEASE_FLAGS_CHANGED, actor=actor, release=release, only=["flags"], extra=result)
    if schedule_moved:
        items_recompute_due(release=release)
        tracked.record(AuditAction.RELEASE_GO_LIVE_CHANGED, actor=actor, release=release, only=SCHEDULE, whole=SCHEDULE)
        if release.state == S.APPROVED:
            why = "The go-live moved after approval; the go/no-go must be taken again."
            release_set_state(release, actor=actor, to=S.IN_PROGRESS, reason=why)
    elif tracked.changed:
        release_reopen_if_not_ready(release=release, actor=actor, why=f"Release changed: {', '.join(tracked.changed)}")


def release_update(
    *,
    release: Release,
    actor: User,
    managers: Any = UNSET,
    stakeholders: Any = UNSET,
    templates: Any = UNSET,
    **fields: Any,
) -> Release:
    """Change a release (`fields`: any of RELEASE_AUDITED). Moving the go-live recomputes
    the due dates of unfinished items and sends an approved release back to in_progress;
    changed flags add (or drop untouched) conditional items; `templates` (all the release's
    templates: those applied and those to add) applies the new ones."""
    permissions.check_release(actor, release, manage=True)
    new_templates = [] if templates is UNSET else _templates_to_add(release, templates)
    clean = _clean_release_fields(fields)
    with transaction.atomic():
        release = lock_release(release)
        require_not_closed(release)
        if release.state == S.LIVE and "flags" in clean and set(clean["flags"]) != set(release.flags):
            raise Conflict(
                "The release is live: its flags, and the checklist they chose, stay as approved.",
                code="release_live",
            )
        schedule_moved = _apply_schedule(release, clean)
        tracked = Changes(release, RELEASE_AUDITED)
        for name, value in clean.items():
            setattr(release, name, value)
        release.save(update_fields=[*clean, "updated_at"])
        tracked.take()
        tracked.record(AuditAction.RELEASE_UPDATED, actor=actor, release=release)
        _set_people(release, actor=actor, managers=managers, stakeholders=stakeholders)
        _after_change(release, tracked, actor=actor, schedule_moved=schedule_moved)
        for template in new_templates:
            checklist_apply_template(release=release, template=template, actor=actor)
        if new_templates:
            release.refresh_from_db()
    return release
