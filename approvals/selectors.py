"""Reads of checklist items and sign-offs, with their sign-off status computed in the
database (never in Python loops), so lists cost the same few queries at any size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    JSONField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, JSONObject
from django.utils import timezone

from .models import ChecklistItem, Delegation, SignOff


def counting_approval_q(item_column: Callable[[str], Any]) -> Q:
    """An approval that counts towards the quorum now: not revoked, given for the item's
    current revision, and (separation of duties holds at count time too) not by the item's
    current assignee or whoever completed it, unless the release relaxes the rule.
    `item_column(name)` names the item's column: OuterRef(name) in a subquery from the item,
    F("item__" + name) on sign-offs."""
    assignee = Coalesce(item_column("assignee_id"), Value(0))
    completer = Coalesce(item_column("completed_by_id"), Value(0))
    involved = Q(approver_id=assignee) | Q(signed_by_id=assignee) | Q(approver_id=completer) | Q(signed_by_id=completer)
    given_now = Q(decision=SignOff.Decision.APPROVE, revoked_at__isnull=True, item_revision=item_column("revision"))
    return given_now & (Q(item__release__allow_self_signoff=True) | ~involved)


def standing_rejection_q(item_column: Callable[[str], Any]) -> Q:
    """A rejection stands until the item is done again (or it is revoked)."""
    return Q(decision=SignOff.Decision.REJECT, revoked_at__isnull=True, completion_seq=item_column("completion_seq"))


def _on_signoff(name: str) -> F:
    return F(f"item__{name}")


def signoffs_with_status(qs: QuerySet[SignOff] | None = None) -> QuerySet[SignOff]:
    """Annotates each sign-off with counts_now: an approval counting towards the quorum, or a
    standing rejection (the same rules the item's counts use)."""
    qs = SignOff.objects.all() if qs is None else qs
    counts = counting_approval_q(_on_signoff) | standing_rejection_q(_on_signoff)
    return qs.annotate(
        counts_now=Case(When(counts, then=Value(True)), default=Value(False), output_field=BooleanField())
    )


def items_with_status(qs: QuerySet[ChecklistItem] | None = None) -> QuerySet[ChecklistItem]:
    """Annotates each item with
    - valid_approvals: distinct approvers whose approval counts now;
    - has_rejection: a rejection stands (given since the item was last completed);
    - is_signed: quorum met and no standing rejection (or no sign-off needed);
    - is_ready: finished (done / not applicable with justification) and signed.
    """
    qs = ChecklistItem.objects.all() if qs is None else qs
    approvals = (
        SignOff.objects.filter(counting_approval_q(OuterRef), item=OuterRef("pk"))
        .order_by()
        .values("item")
        .annotate(c=Count("approver", distinct=True))
        .values("c")
    )
    rejections = SignOff.objects.filter(standing_rejection_q(OuterRef), item=OuterRef("pk"))
    signed = Q(has_rejection=False) & (
        Q(required_signoffs=0) | Q(approver_role__isnull=True) | Q(valid_approvals__gte=F("required_signoffs"))
    )
    finished = Q(state=ChecklistItem.State.DONE) | (Q(state=ChecklistItem.State.NOT_APPLICABLE) & ~Q(justification=""))
    return qs.annotate(
        valid_approvals=Coalesce(Subquery(approvals, output_field=IntegerField()), Value(0)),
        has_rejection=Exists(rejections),
    ).annotate(
        is_signed=Case(When(signed, then=Value(True)), default=Value(False), output_field=BooleanField()),
        is_ready=Case(When(signed & finished, then=Value(True)), default=Value(False), output_field=BooleanField()),
    )


def checklist_for_release(release_id: int) -> QuerySet[ChecklistItem]:
    """A release's checklist with everything a list shows, in a fixed number of queries."""
    return checklist_items().filter(release_id=release_id).order_by("order", "id")


def required_items_not_ready(release_id: int) -> QuerySet[ChecklistItem]:
    return (
        items_with_status(ChecklistItem.objects.filter(release_id=release_id, required=True))
        .filter(Q(is_ready=False))
        .select_related("approver_role", "assignee")
        .order_by("order", "id")
    )


def readiness_subquery() -> Subquery:
    """For a Release queryset: one subquery giving {"total", "ready"} over the release's
    required items (ready = done or justified not applicable, and signed), in one pass over
    the items. Release.readiness turns the two counts into a percentage."""
    required = items_with_status(ChecklistItem.objects.filter(release=OuterRef("pk"), required=True))
    counts = (
        required.order_by()
        .values("release")
        .annotate(counts=JSONObject(total=Count("pk"), ready=Count("pk", filter=Q(is_ready=True))))
        .values("counts")
    )
    return Subquery(counts, output_field=JSONField())


def active_delegation(*, delegator, delegate, role) -> Delegation | None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    return (
        Delegation.objects.filter(
            delegator=delegator,
            delegate=delegate,
            role=role,
            starts_at__lte=now,
            ends_at__gt=now,
            cancelled_at__isnull=True,
        )
        .order_by("starts_at")
        .first()
    )


def delegations_for(user) -> QuerySet[Delegation]:  # type: ignore[no-untyped-def]
    return Delegation.objects.filter(Q(delegator=user) | Q(delegate=user)).select_related(
        "delegator", "delegate", "role"
    )


def checklist_items() -> QuerySet[ChecklistItem]:
    """Items with their sign-off status and what the detail shows, in a fixed number of queries."""
    signoffs = signoffs_with_status().select_related("approver", "signed_by", "role").order_by("created_at", "id")
    return (
        items_with_status(ChecklistItem.objects.all())
        .select_related("assignee", "approver_role", "completed_by")
        .prefetch_related(Prefetch("signoffs", queryset=signoffs))
    )


def signoff_get(pk: int) -> SignOff:
    return signoffs_with_status().select_related("approver", "signed_by", "role", "item").get(pk=pk)
