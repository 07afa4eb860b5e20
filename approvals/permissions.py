"""Who may reach which checklist item, sign-off and delegation. Items and sign-offs are seen
by whoever sees their release (releases.permissions); delegations by the two people in them.
Each helper returns the object or raises the domain NotFound (may not see) / Forbidden (may
see, may not do)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, Group, User
from django.db.models import Q, QuerySet

from config.domain import Forbidden, NotFound
from releases import permissions as release_permissions

from .models import ChecklistItem, Delegation, SignOff

AnyUser = User | AnonymousUser | None


def access_item(
    user: AnyUser, pk: Any, *, manage: bool = False, queryset: QuerySet[ChecklistItem] | None = None
) -> ChecklistItem:
    """The item `pk` (from `queryset`, a selector's, when given) if the user sees its release;
    with `manage`, only for the release's managers."""
    visible = release_permissions.releases_visible_to(user)
    qs = queryset if queryset is not None else ChecklistItem.objects.select_related("release")
    item = qs.filter(pk=pk, release__in=visible).first()
    if item is None:
        raise NotFound("Not found.", code="not_found")
    if manage:
        release_permissions.require_manager(user, item.release)
    return item


def access_signoff(user: AnyUser, pk: Any, *, queryset: QuerySet[SignOff] | None = None) -> SignOff:
    visible = release_permissions.releases_visible_to(user)
    qs = queryset if queryset is not None else SignOff.objects.select_related("item__release")
    signoff = qs.filter(pk=pk, item__release__in=visible).first()
    if signoff is None:
        raise NotFound("Not found.", code="not_found")
    return signoff


def delegations_visible_to(user: AnyUser) -> QuerySet[Delegation]:
    """The delegations a user gave or received."""
    if user is None or not user.is_authenticated:
        return Delegation.objects.none()
    return Delegation.objects.filter(Q(delegator_id=user.pk) | Q(delegate_id=user.pk))


def access_delegation(user: AnyUser, pk: Any) -> Delegation:
    delegation = delegations_visible_to(user).filter(pk=pk).first()
    if delegation is None:
        raise NotFound("Not found.", code="not_found")
    return delegation


def check_delegation_cancel(user: AnyUser, delegation: Delegation) -> None:
    """The approver who named the delegate (or staff) cancels it; the delegate sees it only."""
    is_staff = bool(getattr(user, "is_staff", False))
    pk = getattr(user, "pk", None)
    if pk == delegation.delegate_id and not is_staff:
        raise Forbidden("Only the approver who named you can cancel the delegation.", code="not_delegator")
    if pk != delegation.delegator_id and not is_staff:
        raise NotFound("Delegation not found.", code="not_found")


def holds_role(user: AnyUser, role: Group) -> bool:
    """An active user in the approver role's group."""
    return isinstance(user, User) and user.is_active and user.groups.filter(pk=role.pk).exists()
