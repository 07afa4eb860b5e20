"""Delegations: an approver who is away names a delegate holding the same role."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from config.domain import Forbidden, Invalid, clean_aware
from releases.audit import audit_record
from releases.models import AuditAction

from ..models import Delegation
from ..permissions import check_delegation_cancel, holds_role


def delegation_create(
    *, actor: User, delegate: User, role: Group, starts_at: dt.datetime, ends_at: dt.datetime
) -> Delegation:
    starts_at = clean_aware("starts_at", starts_at, required=True)  # type: ignore[assignment]
    ends_at = clean_aware("ends_at", ends_at, required=True)  # type: ignore[assignment]
    if ends_at <= starts_at:
        raise Invalid.field("ends_at", "The end must be after the start.")
    if ends_at <= timezone.now():
        raise Invalid.field("ends_at", "The delegation would already be over.")
    if delegate == actor:
        raise Invalid.field("delegate", "You can't delegate to yourself.")
    if not holds_role(actor, role):
        raise Forbidden(f"You don't hold the {role.name} role.", code="missing_role")
    if not holds_role(delegate, role):
        raise Invalid.field(
            "delegate", f"The delegate must hold the {role.name} role too.", code="delegate_missing_role"
        )
    with transaction.atomic():
        delegation = Delegation.objects.create(
            delegator=actor, delegate=delegate, role=role, starts_at=starts_at, ends_at=ends_at
        )
        audit_record(
            action=AuditAction.DELEGATION_CREATED,
            actor=actor,
            target=delegation,
            after={"delegate": delegate.get_username(), "role": role.name, "starts_at": starts_at, "ends_at": ends_at},
        )
    return delegation


def delegation_cancel(*, delegation: Delegation, actor: User) -> Delegation:
    check_delegation_cancel(actor, delegation)
    with transaction.atomic():
        delegation = Delegation.objects.select_for_update().get(pk=delegation.pk)
        if delegation.cancelled_at is None:
            delegation.cancelled_at = timezone.now()
            delegation.save(update_fields=["cancelled_at"])
            audit_record(
                action=AuditAction.DELEGATION_CANCELLED,
                actor=actor,
                target=delegation,
                after={"cancelled_at": delegation.cancelled_at},
            )
    return delegation
