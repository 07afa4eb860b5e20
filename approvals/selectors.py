"""Reads of checklist items, sign-offs and delegations, and the one SQL definition of an
item's sign-off status.

The status rules (`counting_approval_q`, `standing_rejection_q`, `signed_q`, `finished_q`)
are written once, here. The services store their result on each item and release through
`approvals.services.status` (in the same transaction as the change); `computed_status` evaluates
them afresh for `manage.py check_readiness`. Lists read the stored columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser, Group, User
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    Expression,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from releases.models import Release
from releases.permissions import releases_visible_to

from .models import ChecklistItem, Delegation, SignOff
from .permissions import delegations_visible_to

State = ChecklistItem.State
STATUS_FIELDS = ("valid_approvals", "has_rejection", "is_signed", "is_ready")
# Separation of duties: who is involved in an item (its assignee and whoever completed it),
# and so can't sign it off (refused when signing) nor count (when counting), unless the
# release relaxes the rule.
INVOLVED = ("assignee_id", "completed_by_id")


# --- the status rules ------------------------------------------------------------------------


def counting_approval_q(item_column: Callable[[str], Any]) -> Q:
    """An approval that counts towards the quorum now: not revoked, given for the item's
    current revision, and (separation of duties holds at count time too) not by the item's
    current assignee or whoever completed it, unless the release relaxes the rule.
    `item_column(name)` names the item's column: OuterRef(name) in a subquery from the item,
    F("item__" + name) on sign-offs."""
    involved = Q()
    for column in INVOLVED:
        person = Coalesce(item_column(column), Value(0))
        involved |= Q(approver_id=person) | Q(signed_by_id=person)
    given_now = Q(decision=SignOff.Decision.APPROVE, revoked_at__isnull=True, item_revision=item_column("revision"))
    return given_now & (Q(item__release__allow_self_signoff=True) | ~involved)


def standing_rejection_q(item_column: Callable[[str], Any]) -> Q:
    """A rejection stands until the item is done again (or it is revoked)."""
    return Q(decision=SignOff.Decision.REJECT, revoked_at__isnull=True, completion_seq=item_column("completion_seq"))


def stale_signoff_q(item_column: Callable[[str], Any]) -> Q:
    """Given before the item last changed: an approval before a change of status, evidence or
    text (another revision); a rejection before the item was done again."""
    return Q(decision=SignOff.Decision.APPROVE) & ~Q(item_revision=item_column("revision")) | Q(
        decision=SignOff.Decision.REJECT
    ) & ~Q(completion_seq=item_column("completion_seq"))


def signed_q(*, valid_approvals: str = "valid_approvals", has_rejection: str = "has_rejection") -> Q:
    """Quorum met and no standing rejection, or no sign-off needed; over the item's columns
    (or the annotations of the same meaning named here)."""
    quorum = (
        Q(required_signoffs=0)
        | Q(approver_role__isnull=True)
        | Q(**{f"{valid_approvals}__gte": F("required_signoffs")})
    )
    return Q(**{has_rejection: False}) & quorum


def finished_q() -> Q:
    """Done, or not applicable with a justification."""
    return Q(state=State.DONE) | (Q(state=State.NOT_APPLICABLE) & ~Q(justification=""))


def overdue_q(now: dt.datetime) -> Q:
    """Due before `now` and not finished."""
    return Q(due_at__lt=now) & ~Q(state__in=ChecklistItem.FINISHED_STATES)


def active_delegation_q(now: dt.datetime) -> Q:
    return Q(starts_at__lte=now, ends_at__gt=now, cancelled_at__isnull=True)


def _on_item(name: str) -> OuterRef:
    return OuterRef(name)


def _on_signoff(name: str) -> F:
    return F(f"item__{name}")


def _when(q: Q) -> Case:
    return Case(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())


def valid_approvals_expr(signoffs: Any = SignOff) -> Expression:
    """For an item row (in a query or an UPDATE): distinct approvers whose approval counts.
    `signoffs` is the SignOff model (a migration passes its historical one)."""
    approvals = (
        signoffs.objects.filter(counting_approval_q(_on_item), item=OuterRef("pk"))
        .order_by()
        .values("item")
        .annotate(c=Count("approver", distinct=True))
        .values("c")
    )
    return Coalesce(Subquery(approvals, output_field=IntegerField()), Value(0))


def has_rejection_expr(signoffs: Any = SignOff) -> Exists:
    return Exists(signoffs.objects.filter(standing_rejection_q(_on_item), item=OuterRef("pk")))


def signed_expr(**names: str) -> Case:
    return _when(signed_q(**names))


def ready_expr(**names: str) -> Case:
    return _when(signed_q(**names) & finished_q())


def computed_status(qs: QuerySet[ChecklistItem]) -> QuerySet[ChecklistItem]:
    """Annotates `computed_<field>` for each of STATUS_FIELDS, evaluated afresh from the
    sign-offs (what the stored columns must equal)."""
    names = {"valid_approvals": "computed_valid_approvals", "has_rejection": "computed_has_rejection"}
    return qs.annotate(
        computed_valid_approvals=valid_approvals_expr(), computed_has_rejection=has_rejection_expr()
    ).annotate(computed_is_signed=signed_expr(**names), computed_is_ready=ready_expr(**names))


def required_counts(items: QuerySet[ChecklistItem], *, ready: str = "is_ready") -> QuerySet[Any]:
    """Per release of `items`: `total` required items and `ready` ones (by the stored column,
    or the annotation of the same meaning named here)."""
    return (
        items.filter(required=True)
        .order_by()
        .values("release")
        .annotate(total=Count("pk"), ready=Count("pk", filter=Q(**{ready: True})))
    )


def readiness_percent(*, ready: int, total: int) -> int:
    """Required items done and signed, in percent (0 without required items)."""
    return ready * 100 // total if total else 0


def status_drift() -> QuerySet[ChecklistItem]:
    """Items whose stored status differs from the computed one."""
    same = Q(
        valid_approvals=F("computed_valid_approvals"),
        has_rejection=F("computed_has_rejection"),
        is_signed=F("computed_is_signed"),
        is_ready=F("computed_is_ready"),
    )
    return computed_status(ChecklistItem.objects.all()).exclude(same)


def readiness_drift() -> list[dict[str, Any]]:
    """Releases whose stored readiness differs from what their items' computed status gives:
    each with the stored and the computed (required_total, required_ready, readiness)."""
    counts = required_counts(
        computed_status(ChecklistItem.objects.filter(release=OuterRef("pk"))), ready="computed_is_ready"
    )
    rows = Release.objects.annotate(
        computed_total=Coalesce(Subquery(counts.values("total"), output_field=IntegerField()), Value(0)),
        computed_ready=Coalesce(Subquery(counts.values("ready"), output_field=IntegerField()), Value(0)),
    ).values("pk", "required_total", "required_ready", "readiness", "computed_total", "computed_ready")
    out = []
    for row in rows.order_by("pk"):
        stored = (row["required_total"], row["required_ready"], row["readiness"])
        total, done = row["computed_total"], row["computed_ready"]
        computed = (total, done, readiness_percent(ready=done, total=total))
        if stored != computed:
            out.append({"release": row["pk"], "stored": stored, "computed": computed})
    return out


# --- reads -------------------------------------------------------------------------------


def signoffs_with_status(qs: QuerySet[SignOff] | None = None) -> QuerySet[SignOff]:
    """Sign-offs with what a list shows: `counts_now` (an approval counting towards the quorum,
    or a standing rejection: the rules the item's status uses), `stale`, and the names of
    the people and role (not their whole rows)."""
    qs = SignOff.objects.all() if qs is None else qs
    return qs.annotate(
        counts_now=_when(counting_approval_q(_on_signoff) | standing_rejection_q(_on_signoff)),
        stale=_when(stale_signoff_q(_on_signoff)),
        approver_username=F("approver__username"),
        signed_by_username=F("signed_by__username"),
        role_name=F("role__name"),
    )


def checklist_items(now: dt.datetime | None = None, *, signoffs: bool = True) -> QuerySet[ChecklistItem]:
    """Items with their stored status, overdue, the names they show and (unless `signoffs` is
    false: read them for the rows with `with_signoffs`) their sign-offs, in a fixed number of
    queries."""
    items = ChecklistItem.objects.annotate(
        overdue=_when(overdue_q(now or timezone.now())),
        assignee_username=F("assignee__username"),
        approver_role_name=F("approver_role__name"),
    )
    if not signoffs:
        return items
    ordered = signoffs_with_status().order_by("created_at", "id")
    return items.prefetch_related(Prefetch("signoffs", queryset=ordered, to_attr="signoff_list"))


def checklist_for_release(release_id: int, *, signoffs: bool = True) -> QuerySet[ChecklistItem]:
    return checklist_items(signoffs=signoffs).filter(release_id=release_id).order_by("order", "id")


def with_signoffs(items: list[ChecklistItem]) -> list[ChecklistItem]:
    """`signoff_list` (as checklist_items prefetches it) for a page of items, in one query.
    Not Django's prefetch: it ties each sign-off back to its item, and those reference cycles
    live until the garbage collector frees them (a page of 200 items left ~5,000 objects;
    reading a long checklist page by page cost full collections of ~50-90 ms, make bench)."""
    by_item: dict[int, list[SignOff]] = {}
    for item in items:
        item.signoff_list = by_item[item.pk] = []  # type: ignore[attr-defined]
    if by_item:
        rows = signoffs_with_status(SignOff.objects.filter(item_id__in=list(by_item))).order_by("created_at", "id")
        for signoff in rows:
            by_item[signoff.item_id].append(signoff)
    return items


def checklist_overview(release_id: int) -> QuerySet[ChecklistItem]:
    """A release's items as the release page lists them: the columns a row shows, with
    overdue and names; no sign-offs (the item panel reads those)."""
    columns = (
        "release_id", "category", "order", "title", "required", "state", "assignee_id", "due_at",
        "approver_role_id", "required_signoffs", "valid_approvals", "has_rejection", "is_signed", "is_ready",
    )  # fmt: skip
    return (
        ChecklistItem.objects.filter(release_id=release_id)
        .only(*columns)
        .annotate(
            overdue=_when(overdue_q(timezone.now())),
            assignee_username=F("assignee__username"),
            approver_role_name=F("approver_role__name"),
        )
        .order_by("order", "id")
    )


def required_items_not_ready(release_id: int) -> QuerySet[ChecklistItem]:
    """A release's required items that are not ready, with what a refusal names: the
    standing rejection's approver and comment, and how many approvals went stale."""
    rejections = SignOff.objects.filter(standing_rejection_q(_on_item), item=OuterRef("pk")).order_by(
        "-created_at", "-id"
    )
    stale = (
        SignOff.objects.filter(
            stale_signoff_q(_on_item), item=OuterRef("pk"), decision=SignOff.Decision.APPROVE, revoked_at__isnull=True
        )
        .order_by()
        .values("item")
        .annotate(c=Count("pk"))
        .values("c")
    )
    return (
        ChecklistItem.objects.filter(release_id=release_id, required=True, is_ready=False)
        .annotate(
            assignee_username=F("assignee__username"),
            approver_role_name=F("approver_role__name"),
            rejected_by=Subquery(rejections.values("approver__username")[:1]),
            rejection_comment=Subquery(rejections.values("comment")[:1]),
            stale_approvals=Coalesce(Subquery(stale, output_field=IntegerField()), Value(0)),
        )
        .order_by("order", "id")
    )


def item_status(item: ChecklistItem) -> ChecklistItem:
    """The item re-read with its stored status."""
    return ChecklistItem.objects.get(pk=item.pk)


def active_delegation(*, delegator: User, delegate: User, role: Group) -> Delegation | None:
    return (
        Delegation.objects.filter(
            active_delegation_q(timezone.now()), delegator=delegator, delegate=delegate, role=role
        )
        .order_by("starts_at")
        .first()
    )


def delegations_for(user: User | AnonymousUser) -> QuerySet[Delegation]:
    """The user's delegations, given and received, with `active` (in force now)."""
    return delegations_visible_to(user).annotate(
        active=_when(active_delegation_q(timezone.now())),
        delegate_username=F("delegate__username"),
        role_name=F("role__name"),
    )


def signoff_get(pk: int) -> SignOff:
    return signoffs_with_status().get(pk=pk)


# --- dashboard and sign-off queue ---


def _standing_signoff(**who: Any) -> Q:
    """A sign-off not revoked, on the item's current version, by `who` (approver_id= or
    signed_by_id=): signoff_grant refuses a second one (one person's counts once)."""
    return Q(
        Exists(
            SignOff.objects.filter(
                item=OuterRef("pk"), revoked_at__isnull=True, item_revision=OuterRef("revision"), **who
            )
        )
    )


def _not_involved_q(*people: int) -> Q:
    """None of `people` is the item's assignee or completer, or the release relaxes the rule."""
    apart = Q()
    for pk in people:
        for column in INVOLVED:
            apart &= ~Q(**{column: pk})
    return Q(release__allow_self_signoff=True) | apart


def delegations_to(user: User | AnonymousUser, now: dt.datetime | None = None) -> list[Delegation]:
    """The delegations in force now naming `user` as delegate, whose approver is active and
    still holds the role (else the service refuses the sign-off); one per approver and role."""
    if not user.is_authenticated:
        return []
    holds = User.groups.through.objects.filter(user_id=OuterRef("delegator_id"), group_id=OuterRef("role_id"))
    found = (
        Delegation.objects.filter(active_delegation_q(now or timezone.now()), delegate_id=user.pk)
        .filter(Exists(holds), delegator__is_active=True)
        .select_related("delegator", "role")
        .order_by("delegator__username", "role__name", "id")
    )
    out: dict[tuple[int, int], Delegation] = {}
    for delegation in found:
        out.setdefault((delegation.delegator_id, delegation.role_id), delegation)
    return list(out.values())


def awaiting_signoff(
    user: User, *, delegations: list[Delegation], signable_only: bool = False
) -> QuerySet[ChecklistItem]:
    """Items waiting for the user's sign-off: done or not applicable, not signed yet, on a
    release the user sees that is not closed, needing a role the user holds (annotated
    `for_me`) or one that an approver who delegated to them holds (`via_<delegation id>`),
    with no standing sign-off of theirs (or the approver's) on this version and no standing
    rejection by them. `signable_only`: without those separation of duties keeps them from.
    Oldest due first, in one query whatever the number of delegations."""
    # The roles as values, not a subquery: the planner then reads the items awaiting them by
    # the item_awaiting_signoff index instead of walking every item by due date.
    roles = list(user.groups.values_list("pk", flat=True))
    branches: dict[str, Q] = {
        "for_me": Q(approver_role_id__in=roles) & ~_standing_signoff(approver_id=user.pk),
    }
    if signable_only:
        branches["for_me"] &= _not_involved_q(user.pk)
    for delegation in delegations:
        branch = Q(
            approver_role_id=delegation.role_id,
            release__in=releases_visible_to(delegation.delegator).values("pk"),
        ) & ~_standing_signoff(approver_id=delegation.delegator_id)
        if signable_only:
            branch &= _not_involved_q(user.pk, delegation.delegator_id)
        branches[f"via_{delegation.pk}"] = branch
    any_branch = Q()
    for branch in branches.values():
        any_branch |= branch
    rejected_by_me = Exists(
        SignOff.objects.filter(standing_rejection_q(_on_item), item=OuterRef("pk")).filter(
            Q(approver_id=user.pk) | Q(signed_by_id=user.pk)
        )
    )
    return (
        ChecklistItem.objects.filter(
            state__in=ChecklistItem.FINISHED_STATES,
            approver_role__isnull=False,
            required_signoffs__gt=0,
            is_signed=False,
            release__in=releases_visible_to(user).values("pk"),
        )
        .exclude(release__state__in=Release.CLOSED_STATES)
        .exclude(_standing_signoff(signed_by_id=user.pk))
        .exclude(rejected_by_me)
        .filter(any_branch)
        .annotate(**{name: _when(branch) for name, branch in branches.items()})
        .order_by(F("due_at").asc(nulls_last=True), "release__go_live_at", "release_id", "order", "id")
    )


def signoff_queue(user: User, *, delegations: list[Delegation]) -> QuerySet[ChecklistItem]:
    """awaiting_signoff with what the queue's rows show: the release, the role and assignee
    names, overdue."""
    now = timezone.now()
    return (
        awaiting_signoff(user, delegations=delegations)
        .select_related("release", "release__project")
        .annotate(
            # Done but not signed past its due date: the sign-off is what is late.
            overdue=_when(Q(due_at__lt=now)),
            approver_role_name=F("approver_role__name"),
            assignee_username=F("assignee__username"),
            completed_by_username=F("completed_by__username"),
        )
    )


def my_open_items(user: User, *, soon: dt.timedelta = dt.timedelta(days=7)) -> QuerySet[ChecklistItem]:
    """Items assigned to the user, not finished, on visible releases not closed, that are
    blocked or due before `soon` from now (overdue annotated); soonest due first."""
    now = timezone.now()
    return (
        ChecklistItem.objects.filter(assignee_id=user.pk, release__in=releases_visible_to(user).values("pk"))
        .exclude(state__in=ChecklistItem.FINISHED_STATES)
        .exclude(release__state__in=Release.CLOSED_STATES)
        .filter(Q(state=State.BLOCKED) | Q(due_at__lt=now + soon))
        .select_related("release")
        .annotate(overdue=_when(overdue_q(now)))
        .order_by(F("due_at").asc(nulls_last=True), "id")
    )
