"""The append-only audit trail. Services call `audit_record` inside their transaction, so
the event and the change commit together or not at all. Notifications are built on these
events: record everything a person could want to be told about."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.contrib.auth.models import Group
from django.db import models

from .models import AuditEvent, Release


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


def audit_record(
    *,
    action: str,
    actor: Any,
    target: models.Model,
    release: Release | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        release=release,
        actor=user,
        actor_name=user.get_username() if user else "system",
        action=action,
        target_type=target._meta.label_lower,
        target_id=target.pk,
        target_repr=str(target)[:300],
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
    )


def snapshot(obj: models.Model, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The named fields of a row as JSON-able values (for before/after): related rows by id,
    except approver roles, by name (as the API names them)."""
    out: dict[str, Any] = {}
    for name in fields:
        field: Any = obj._meta.get_field(name)
        value = getattr(obj, field.attname) if field.is_relation else getattr(obj, name)
        if field.is_relation and field.related_model is Group and value is not None:
            value = getattr(obj, name).name
        out[name] = _jsonable(value)
    return out
