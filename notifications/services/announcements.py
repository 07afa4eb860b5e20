"""Announcements of a release to an audience: made by the release's managers, with
placeholders rendered in the audience's language, previewed, sent now or at a time,
cancelled while scheduled. The sending is in announcement_sending.py."""

from __future__ import annotations

import datetime as dt
import logging
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from config.domain import Conflict, Invalid, clean_aware, clean_text
from releases.audit import audit_record
from releases.models import AuditAction, Release
from releases.permissions import require_manager

from .. import permissions
from ..models import Announcement, Audience

log = logging.getLogger(__name__)

PLACEHOLDERS = ("release", "version", "go_live", "window_start", "window_end")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Placeholders that name a time, and the release field each reads.
_TIMES = {"go_live": "go_live_at", "window_start": "go_live_at", "window_end": "window_end_at"}


def placeholder_help() -> str:
    return " ".join("{" + name + "}" for name in PLACEHOLDERS)


def _check_placeholders(name: str, text: str, release: Release) -> None:
    used = set(_PLACEHOLDER.findall(text))
    unknown = sorted(used - set(PLACEHOLDERS))
    if unknown:
        raise Invalid.field(
            name,
            _("Unknown placeholder %(names)s; use %(known)s.")
            % {"names": ", ".join("{" + n + "}" for n in unknown), "known": placeholder_help()},
            code="unknown_placeholder",
        )
    unset = sorted(n for n in used if n in _TIMES and getattr(release, _TIMES[n]) is None)
    if unset:
        raise Invalid.field(
            name,
            _("The release has no time for %(names)s yet.") % {"names": ", ".join("{" + n + "}" for n in unset)},
            code="placeholder_unset",
        )


def release_time_zone(release: Release) -> zoneinfo.ZoneInfo:
    """The release's project's time zone when it has one, else the site's (UTC by default)."""
    name = getattr(release.project, "time_zone", "") or settings.TIME_ZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _when(value: dt.datetime | None, zone: zoneinfo.ZoneInfo) -> str:
    if value is None:
        return "—"
    local = value.astimezone(zone)
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} {local.tzname()}"


def placeholder_values(release: Release, language: str) -> dict[str, str]:
    zone = release_time_zone(release)
    with translation.override(language):
        values = {"release": release.name, "version": release.version or "—"}
        values |= {name: _when(getattr(release, field), zone) for name, field in _TIMES.items()}
    return values


def render_text(text: str, values: dict[str, str]) -> str:
    """The text with its known placeholders filled in; other braces are left as typed."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def announcement_render(announcement: Announcement) -> tuple[str, str]:
    """The subject and body as they are sent (the release as it is now)."""
    values = placeholder_values(announcement.release, announcement.language)
    return render_text(announcement.subject, values), render_text(announcement.body, values)


@dataclass
class Draft:
    """An announcement's input, checked: what create stores and preview shows."""

    release: Release
    audience: Audience
    kind: str
    subject: str
    body: str
    send_at: dt.datetime


def announcement_kinds(release: Release) -> list[str]:
    """What the release may still announce: nothing once cancelled or rolled back (there is
    no downtime ahead and nothing was released), only that it was released once completed."""
    S = Release.State
    if release.state in (S.CANCELLED, S.ROLLED_BACK):
        return []
    if release.state == S.COMPLETED:
        return [Announcement.Kind.RELEASED]
    return list(Announcement.Kind.values)


def require_announceable(release: Release) -> list[str]:
    """The kinds the release may announce; a Conflict when there are none."""
    allowed = announcement_kinds(release)
    if not allowed:
        state = release.get_state_display().lower()
        raise Conflict(
            _("The release is %(state)s: it has nothing to announce.") % {"state": state}, code="release_closed"
        )
    return allowed


def _check_kind(release: Release, kind: Any) -> str:
    if kind not in Announcement.Kind.values:
        raise Invalid.field("kind", _("One of: %(kinds)s.") % {"kinds": ", ".join(Announcement.Kind.values)})
    if kind not in require_announceable(release):
        raise Invalid.field(
            "kind",
            _("The release is %(state)s: announce only that it was released.")
            % {"state": release.get_state_display().lower()},
            code="kind_not_allowed",
        )
    return str(kind)


def _draft(
    *, release: Release, actor: User, audience: Audience, kind: Any, subject: Any, body: Any, send_at: Any
) -> Draft:
    require_manager(actor, release)
    kind = _check_kind(release, kind)
    if not permissions.audiences_for_release(actor, release).filter(pk=getattr(audience, "pk", 0) or 0).exists():
        raise Invalid.field(
            "audience", _("Choose an audience of the release's project or a global one."), code="unknown_audience"
        )
    subject = clean_text("subject", subject, max_length=200, required=True)
    body = clean_text("body", body, max_length=20000, required=True)
    _check_placeholders("subject", subject, release)
    _check_placeholders("body", body, release)
    now = timezone.now()
    when = clean_aware("send_at", send_at)
    return Draft(release, audience, kind, subject, body, now if when is None or when < now else when)


def announcement_preview(
    *, release: Release, actor: User, audience: Audience, kind: Any, subject: Any, body: Any, send_at: Any = None
) -> dict[str, Any]:
    """What announcement_create would send, rendered in the audience's language; writes nothing."""
    draft = _draft(
        release=release, actor=actor, audience=audience, kind=kind, subject=subject, body=body, send_at=send_at
    )
    values = placeholder_values(release, audience.language)
    return {
        "subject": render_text(draft.subject, values),
        "body": render_text(draft.body, values),
        "language": audience.language,
        "recipients": audience.members.filter(unsubscribed_at__isnull=True).count(),
        "send_at": draft.send_at,
    }


def announcement_create(
    *, release: Release, actor: User, audience: Audience, kind: Any, subject: Any, body: Any, send_at: Any = None
) -> Announcement:
    """Stores the announcement, scheduled; it is started at `send_at` (now when absent or past)
    by a task queued after commit, or by the sweeper if the queue loses it."""
    draft = _draft(
        release=release, actor=actor, audience=audience, kind=kind, subject=subject, body=body, send_at=send_at
    )
    with transaction.atomic():
        announcement = Announcement.objects.create(
            release=release,
            audience=audience,
            kind=draft.kind,
            subject=draft.subject,
            body=draft.body,
            language=audience.language,
            send_at=draft.send_at,
            created_by=actor,
        )
        announcement_audit(
            announcement,
            AuditAction.ANNOUNCEMENT_SCHEDULED,
            actor,
            after={"kind": draft.kind, "audience": draft.audience.name, "send_at": draft.send_at},
        )
        pk, eta = announcement.pk, draft.send_at
        transaction.on_commit(lambda: queue_start(pk, eta))
    return announcement


def announcement_audit(announcement: Announcement, action: AuditAction, actor: User | None, **change: Any) -> None:
    """An announcement's event in its release's audit trail, named by its subject as sent."""
    audit_record(
        action=action,
        actor=actor,
        target=announcement,
        release=announcement.release,
        target_repr=announcement_render(announcement)[0],
        **change,
    )


def queue_start(announcement_id: int, eta: dt.datetime | None = None) -> None:
    """Never makes the caller wait on the broker, nor fail: the sweeper starts what is due."""
    from ..tasks.announcements import announcement_start_task

    eta = eta if eta is not None and eta > timezone.now() else None
    try:
        announcement_start_task.apply_async((announcement_id,), eta=eta, retry=False)
    except Exception:  # the broker is down: the sweeper will start it
        log.warning("announcement %s not queued; the sweeper will start it", announcement_id, exc_info=True)


def announcement_cancel(*, announcement: Announcement, actor: User) -> Announcement:
    require_manager(actor, announcement.release)
    with transaction.atomic():
        cancelled = Announcement.objects.filter(pk=announcement.pk, status=Announcement.Status.SCHEDULED).update(
            status=Announcement.Status.CANCELLED, finished_at=timezone.now()
        )
        announcement.refresh_from_db()
        if cancelled:
            announcement_audit(
                announcement,
                AuditAction.ANNOUNCEMENT_CANCELLED,
                actor,
                before={"status": Announcement.Status.SCHEDULED},
                after={"status": Announcement.Status.CANCELLED},
            )
    if not cancelled:
        raise Conflict(
            _("Only a scheduled announcement can be cancelled; this one is %(status)s.")
            % {"status": announcement.get_status_display()},
            code="not_scheduled",
        )
    return announcement
