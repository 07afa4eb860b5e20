"""Who is told what: the one place that maps an audit event (or a scheduled reminder) to the
people and addresses it concerns, per PRODUCT.md's table. The person who acted is never told
of their own act."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from approvals.models import ChecklistItem, Delegation, SignOff
from approvals.selectors import active_delegation_q, computed_status, counting_approval_q
from releases import permissions
from releases.models import AuditAction, AuditEvent, Release

from .models import Event

# Audit actions told as they are, to the release's stakeholders (users and outside addresses).
_RELEASE_EVENTS = {
    AuditAction.RELEASE_APPROVED: Event.RELEASE_APPROVED,
    AuditAction.RELEASE_GO_LIVE_CHANGED: Event.RELEASE_GO_LIVE,
    AuditAction.RELEASE_LIVE: Event.RELEASE_LIVE,
    AuditAction.RELEASE_COMPLETED: Event.RELEASE_COMPLETED,
    AuditAction.RELEASE_ROLLED_BACK: Event.RELEASE_ROLLED_BACK,
    AuditAction.RELEASE_CANCELLED: Event.RELEASE_CANCELLED,
}
# Sign-off decisions, told to the release's managers (a rejection also to the assignee).
_SIGNOFF_EVENTS = {
    AuditAction.SIGNOFF_APPROVED: Event.SIGNOFF_APPROVED,
    AuditAction.SIGNOFF_REJECTED: Event.SIGNOFF_REJECTED,
    AuditAction.SIGNOFF_REVOKED: Event.SIGNOFF_REVOKED,
    AuditAction.SIGNOFF_STALE: Event.SIGNOFF_STALE,
}
HANDLED_ACTIONS = frozenset(
    {
        *_RELEASE_EVENTS,
        *_SIGNOFF_EVENTS,
        AuditAction.ITEM_ASSIGNED,
        AuditAction.ITEM_STATE_CHANGED,
        AuditAction.ITEM_COMMENTED,
    }
)


@dataclass
class Told:
    """One event to tell: to these users, these outside addresses, and the project's webhook.
    `key` makes each (cause, recipient, channel) row unique."""

    event: Event
    key: str
    release: Release
    item: ChecklistItem | None = None
    users: list[User] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    webhook: bool = False
    context: dict[str, Any] = field(default_factory=dict)
    actor_name: str = ""


def _without(users: Iterable[User], actor_id: int | None) -> list[User]:
    seen: set[int] = set()
    kept = []
    for user in users:
        if user.pk != actor_id and user.pk not in seen and user.is_active:
            seen.add(user.pk)
            kept.append(user)
    return kept


def _other_addresses(release: Release, users: list[User], actor_id: int | None) -> list[str]:
    """The release's outside stakeholder addresses, less those of the users told already and
    of the person who acted (compared without case)."""
    known = {user.email.lower() for user in users if user.email}
    if actor_id is not None:
        known |= {email.lower() for email in User.objects.filter(pk=actor_id).values_list("email", flat=True) if email}
    kept: dict[str, str] = {}
    for address in release.stakeholder_emails or []:
        if address.lower() not in known:
            kept.setdefault(address.lower(), address)
    return sorted(kept.values())


def _release_context(release: Release) -> dict[str, Any]:
    return {
        "release": release.name,
        "version": release.version,
        "project": release.project.name,
        "release_id": release.pk,
        "go_live_at": release.go_live_at.isoformat() if release.go_live_at else None,
    }


def _item_context(item: ChecklistItem) -> dict[str, Any]:
    return {**_release_context(item.release), "item": item.title, "item_id": item.pk}


def eligible_approvers(item: ChecklistItem) -> list[User]:
    """Who may sign the item off now: active holders of its approver role who can see the
    release, and the active delegates of those for the role who can see it too; without
    those separation of duties keeps from it (its assignee and whoever marked it done, unless
    relaxed) and those whose approval (or whose delegator's) already counts."""
    if item.approver_role_id is None:
        return []
    viewers = permissions.users_who_can_view(item.release)
    holders = viewers.filter(groups=item.approver_role_id)
    delegations = Delegation.objects.filter(
        active_delegation_q(timezone.now()), role=item.approver_role_id, delegator__in=holders.values("pk")
    )
    delegates = viewers.filter(pk__in=delegations.values("delegate"))
    signed = set(
        SignOff.objects.filter(counting_approval_q(lambda name: F(f"item__{name}")), item=item).values_list(
            "approver_id", flat=True
        )
    )
    signed_for = set(delegations.filter(delegator__in=signed).values_list("delegate_id", flat=True))
    skip: set[int | None] = {*signed, *signed_for}
    if not item.release.allow_self_signoff:
        skip |= {item.assignee_id, item.completed_by_id}
    people = [*holders.order_by("username"), *delegates.order_by("username")]
    return [user for user in people if user.pk not in skip]


def _item_of(event: AuditEvent) -> ChecklistItem | None:
    pk = event.target_id if event.target_type == "approvals.checklistitem" else (event.after or {}).get("item")
    if pk is None:
        return None
    return ChecklistItem.objects.select_related("release__project", "assignee").filter(pk=pk).first()


def for_audit(event: AuditEvent) -> Told | None:
    """What an audit event tells, and to whom; None when it tells nobody."""
    action = AuditAction(event.action)
    if action not in HANDLED_ACTIONS or event.release_id is None:
        return None
    after = event.after or {}
    key = f"audit:{event.pk}"
    if action in _RELEASE_EVENTS:
        release = Release.objects.select_related("project").get(pk=event.release_id)
        context = {**_release_context(release), "reason": after.get("reason") or ""}
        if action == AuditAction.RELEASE_GO_LIVE_CHANGED:
            context["previous_go_live_at"] = (event.before or {}).get("go_live_at")
        return Told(
            event=_RELEASE_EVENTS[action],
            key=key,
            release=release,
            users=(users := _without(release.stakeholders.all(), event.actor_id)),
            addresses=_other_addresses(release, users, event.actor_id),
            webhook=True,
            context=context,
            actor_name=event.actor_name,
        )
    item = _item_of(event)
    if item is None:
        return None
    told = Told(event=Event.ITEM_ASSIGNED, key=key, release=item.release, item=item, context=_item_context(item))
    told.actor_name = event.actor_name
    if action in _SIGNOFF_EVENTS:
        told.event = _SIGNOFF_EVENTS[action]
        people = list(permissions.release_managers(item.release))
        if action == AuditAction.SIGNOFF_REJECTED and item.assignee is not None:
            people.append(item.assignee)
        told.users = _without(people, event.actor_id)
        told.webhook = action in (AuditAction.SIGNOFF_APPROVED, AuditAction.SIGNOFF_REJECTED)
        told.context |= {
            "role": after.get("role") or "",
            "comment": after.get("comment") or after.get("reason") or "",
            "on_behalf_of": after.get("on_behalf_of") or "",
        }
        return told
    if action == AuditAction.ITEM_ASSIGNED:
        assignee = item.assignee if item.assignee_id == after.get("assignee") else None
        told.users = _without([assignee] if assignee else [], event.actor_id)
        return told
    if action == AuditAction.ITEM_COMMENTED:
        told.event = Event.COMMENT_MENTION
        mentioned = permissions.users_who_can_view(item.release).filter(username__in=after.get("mentions") or [])
        told.users = _without(mentioned, event.actor_id)
        told.context["comment"] = after.get("comment") or ""
        return told
    # The item's state changed: told when it now waits for a sign-off.
    if not _awaits_signoff(item, after.get("state")):
        return None
    told.event = Event.ITEM_AWAITING_SIGNOFF
    told.users = _without(eligible_approvers(item), event.actor_id)
    told.webhook = True
    told.context["role"] = item.approver_role.name if item.approver_role else ""
    return told


def _awaits_signoff(item: ChecklistItem, state: str | None) -> bool:
    """Finished (as the event says) and, by the sign-offs as they are now, not signed: the
    item's stored status is refreshed after its change is audited, so it is computed here."""
    if state not in ChecklistItem.FINISHED_STATES or item.state != state or not item.needs_signoff:
        return False
    fresh: Any = computed_status(ChecklistItem.objects.filter(pk=item.pk))
    return not fresh.values_list("computed_is_signed", flat=True).first()


# --- scheduled reminders -----------------------------------------------------------------


def _open_items() -> QuerySet[ChecklistItem]:
    return (
        ChecklistItem.objects.exclude(release__state__in=Release.CLOSED_STATES)
        .select_related("release__project", "assignee", "approver_role")
        .order_by("due_at", "pk")
    )


def due_soon(now: Any, *, within: Any) -> list[Told]:
    """Items not finished, with an assignee, due between now and `within` from now: their
    assignee, once per due date."""
    items = _open_items().filter(
        ~Q(state__in=ChecklistItem.FINISHED_STATES), assignee__isnull=False, due_at__gte=now, due_at__lt=now + within
    )
    return [
        Told(
            event=Event.ITEM_DUE_SOON,
            key=f"due_soon:{item.pk}:{item.due_at:%Y%m%d%H%M}",
            release=item.release,
            item=item,
            users=_without([item.assignee], None) if item.assignee else [],
            context={**_item_context(item), "due_at": item.due_at.isoformat() if item.due_at else None},
        )
        for item in items
    ]


def overdue(now: Any) -> list[Told]:
    """Items past due and not finished: their assignee and the release's managers, once per
    due date."""
    items = _open_items().filter(~Q(state__in=ChecklistItem.FINISHED_STATES), due_at__lt=now)
    managers = permissions.manager_ids_of(sorted({item.release_id for item in items}))
    users = User.objects.in_bulk({pk for ids in managers.values() for pk in ids})
    told = []
    for item in items:
        people = [users[pk] for pk in managers.get(item.release_id, []) if pk in users]
        if item.assignee is not None:
            people.insert(0, item.assignee)
        told.append(
            Told(
                event=Event.ITEM_OVERDUE,
                key=f"overdue:{item.pk}:{item.due_at:%Y%m%d%H%M}",
                release=item.release,
                item=item,
                users=_without(people, None),
                context={**_item_context(item), "due_at": item.due_at.isoformat() if item.due_at else None},
            )
        )
    return told


def signoff_waiting(now: Any, *, longer_than: Any) -> list[Told]:
    """Items done and waiting for a sign-off for longer than `longer_than`: the eligible
    approvers, once per time the item was finished."""
    items = _open_items().filter(
        state__in=ChecklistItem.FINISHED_STATES,
        approver_role__isnull=False,
        required_signoffs__gt=0,
        is_signed=False,
        completed_at__lt=now - longer_than,
    )
    return [
        Told(
            event=Event.SIGNOFF_REMINDER,
            key=f"signoff_reminder:{item.pk}:{item.completed_at:%Y%m%d%H%M%S}",
            release=item.release,
            item=item,
            users=eligible_approvers(item),
            context={**_item_context(item), "role": item.approver_role.name if item.approver_role else ""},
        )
        for item in items
    ]


def report_ready(release: Release, report_id: int) -> Told:
    """A readiness report asked to be mailed: the release's stakeholders, users and outside
    addresses (the requester included: the report is what they asked for)."""
    return Told(
        event=Event.REPORT_READY,
        key=f"report:{report_id}",
        release=release,
        users=(users := _without(release.stakeholders.all(), None)),
        addresses=_other_addresses(release, users, None),
        context={**_release_context(release), "report_id": report_id, "readiness": release.readiness},
    )
