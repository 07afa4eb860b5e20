"""Reads of checklist items and sign-offs, with their sign-off status computed in the
database (never in Python loops), so lists cost the same few queries at any size."""

from __future__ import annotations

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


def valid_approvals_q() -> Q:
    """An approval counts: not revoked and given for the item's current revision."""
    return Q(decision=SignOff.Decision.APPROVE, revoked_at__isnull=True, item_revision=F("item__revision"))


def items_with_status(qs: QuerySet[ChecklistItem] | None = None) -> QuerySet[ChecklistItem]:
    """Annotates each item with
    - valid_approvals: distinct approvers whose approval counts now;
    - has_rejection: a rejection stands (given since the item was last completed);
    - is_signed: quorum met and no standing rejection (or no sign-off needed);
    - is_ready: finished (done / not applicable with justification) and signed.
    """
    qs = ChecklistItem.objects.all() if qs is None else qs
    # Separation of duties holds at count time too: an approval by the item's current assignee
    # or by whoever completed it does not count, unless the release relaxes the rule.
    assignee = Coalesce(OuterRef("assignee_id"), Value(0))
    completer = Coalesce(OuterRef("completed_by_id"), Value(0))
    involved = Q(approver_id=assignee) | Q(signed_by_id=assignee) | Q(approver_id=completer) | Q(signed_by_id=completer)
    approvals = (
        SignOff.objects.filter(
            item=OuterRef("pk"),
            decision=SignOff.Decision.APPROVE,
            revoked_at__isnull=True,
            item_revision=OuterRef("revision"),
        )
        .filter(Q(item__release__allow_self_signoff=True) | ~involved)
        .order_by()
        .values("item")
        .annotate(c=Count("approver", distinct=True))
        .values("c")
    )
    rejections = SignOff.objects.filter(
        item=OuterRef("pk"),
        decision=SignOff.Decision.REJECT,
        revoked_at__isnull=True,
        completion_seq=OuterRef("completion_seq"),
    )
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
    signoffs = SignOff.objects.select_related("approver", "signed_by", "role").order_by("created_at", "id")
    return (
        items_with_status(ChecklistItem.objects.all())
        .select_related("release", "assignee", "approver_role", "completed_by")
        .prefetch_related(Prefetch("signoffs", queryset=signoffs))
    )


def signoff_get(pk: int) -> SignOff:
    return SignOff.objects.select_related("approver", "signed_by", "role", "item__release").get(pk=pk)
