"""Freeze windows: blackout periods, one-off or weekly, global or per project, defined by
administrators."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from config.domain import UNSET, Forbidden, Invalid, clean_aware, clean_text

from .. import permissions
from ..audit import Changes, audit_record, snapshot
from ..models import AuditAction, FreezeWindow, Project

FREEZE_FIELDS = ("name", "project", "starts_at", "ends_at", "weekday", "start_time", "end_time", "timezone", "reason")


def _clean_freeze(window: FreezeWindow) -> None:
    window.name = clean_text("name", window.name, max_length=200, required=True)
    window.reason = clean_text("reason", window.reason, max_length=10000)
    try:
        ZoneInfo(window.timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise Invalid.field(
            "timezone", _("Unknown time zone %(zone)s.") % {"zone": repr(str(window.timezone)[:64])}
        ) from None
    one_off = window.starts_at is not None or window.ends_at is not None
    weekly = window.weekday is not None or window.start_time is not None or window.end_time is not None
    if one_off and weekly:
        raise Invalid.field(
            "non_field_errors",
            _("A freeze window is either one-off (starts_at, ends_at) or weekly (weekday, start_time, end_time)."),
        )
    if one_off:
        clean_aware("starts_at", window.starts_at)
        clean_aware("ends_at", window.ends_at)
        if window.starts_at is None or window.ends_at is None:
            raise Invalid.field(
                "ends_at" if window.starts_at else "starts_at", _("A one-off window needs a start and an end.")
            )
        if window.ends_at <= window.starts_at:
            raise Invalid.field("ends_at", _("The end must be after the start."))
    elif weekly:
        if isinstance(window.weekday, bool) or not isinstance(window.weekday, int) or not 0 <= window.weekday <= 6:
            raise Invalid.field("weekday", _("0 (Monday) to 6 (Sunday)."))
        for name in ("start_time", "end_time"):
            if not isinstance(getattr(window, name), dt.time):
                raise Invalid.field(name, _("A time of day."))
        if window.start_time == window.end_time:
            raise Invalid.field("end_time", _("The end must differ from the start."))
    else:
        raise Invalid.field(
            "non_field_errors", _("Give either starts_at and ends_at, or weekday, start_time and end_time.")
        )


def _require_freeze_admin(actor: User) -> None:
    if not permissions.can_manage_freeze_windows(actor):
        raise Forbidden(_("Only administrators can change freeze windows."), code="forbidden")


def freeze_window_create(
    *,
    actor: User,
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
        audit_record(
            action=AuditAction.FREEZE_WINDOW_CREATED, actor=actor, target=window, after=snapshot(window, FREEZE_FIELDS)
        )
    return window


def freeze_window_update(*, window: FreezeWindow, actor: User, **changes: Any) -> FreezeWindow:
    _require_freeze_admin(actor)
    changes = {k: v for k, v in changes.items() if v is not UNSET}
    if "timezone_name" in changes:
        changes["timezone"] = changes.pop("timezone_name")
    unknown = set(changes) - set(FREEZE_FIELDS)
    if unknown:
        raise Invalid.field(sorted(unknown)[0], "Unknown field.")
    with transaction.atomic():
        window = FreezeWindow.objects.select_for_update().get(pk=window.pk)
        tracked = Changes(window, FREEZE_FIELDS)
        for name, value in changes.items():
            setattr(window, name, value)
        _clean_freeze(window)
        window.save()
        tracked.take()
        audit_record(
            action=AuditAction.FREEZE_WINDOW_UPDATED,
            actor=actor,
            target=window,
            before=tracked.before,
            after=tracked.after,
        )
    return window


def freeze_window_delete(*, window: FreezeWindow, actor: User) -> None:
    _require_freeze_admin(actor)
    with transaction.atomic():
        audit_record(
            action=AuditAction.FREEZE_WINDOW_DELETED, actor=actor, target=window, before=snapshot(window, FREEZE_FIELDS)
        )
        window.delete()
