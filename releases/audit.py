"""The append-only audit trail. Services call `audit_record` inside their transaction, so
the event and the change commit together or not at all. It is the seam notifications hook
into: whatever is told to someone is an audit event first (see AuditAction for what each
carries)."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.models import AnonymousUser, Group, User
from django.db import models

from .models import AuditAction, AuditEvent, Release


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


# Called with every event inside the transaction that records it: the notifications app
# writes its outbox rows here, so a change and the telling of it commit together.
AUDIT_LISTENERS: list[Callable[[AuditEvent], None]] = []


def audit_record(
    *,
    action: AuditAction,
    actor: User | AnonymousUser | None,
    target: models.Model,
    release: Release | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    target_repr: str | None = None,
) -> AuditEvent:
    user = actor if isinstance(actor, User) else None
    event = AuditEvent.objects.create(
        release=release,
        actor=user,
        actor_name=user.get_username() if user else "system",
        action=AuditAction(action),
        target_type=target._meta.label_lower,
        target_id=target.pk,
        target_repr=(str(target) if target_repr is None else target_repr)[:300],
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
    )
    for listener in AUDIT_LISTENERS:
        listener(event)
    return event


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
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


class Changes:
    """Record the change of these fields: snapshot them before a change, `take()` after it;
    `changed` lists what moved and `record()` writes an audit event with the before and after
    of the changed fields (all of them, or those named)."""

    def __init__(self, obj: models.Model, fields: Iterable[str]) -> None:
        self.obj = obj
        self.fields = tuple(fields)
        self.before = snapshot(obj, self.fields)
        self.after = dict(self.before)

    def take(self) -> list[str]:
        self.after = snapshot(self.obj, self.fields)
        return self.changed

    @property
    def changed(self) -> list[str]:
        return [f for f in self.fields if self.before[f] != self.after[f]]

    def __contains__(self, field: str) -> bool:
        return self.before[field] != self.after[field]

    def record(
        self,
        action: AuditAction,
        *,
        actor: User | AnonymousUser | None,
        release: Release | None = None,
        only: Iterable[str] | None = None,
        whole: Iterable[str] = (),
        extra: dict[str, Any] | None = None,
    ) -> AuditEvent | None:
        """One event for the changed fields (or those of `only` that changed); `whole` names
        fields recorded together whenever any of them changed. Nothing changed: no event."""
        names = [f for f in self.changed if only is None or f in only]
        if not names:
            return None
        names = [*names, *(f for f in whole if f not in names)]
        return audit_record(
            action=action,
            actor=actor,
            target=self.obj,
            release=release,
            before={f: self.before[f] for f in names},
            after={**{f: self.after[f] for f in names}, **(extra or {})},
        )
