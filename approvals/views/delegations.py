"""Browser pages: delegations. An approver who is away names a delegate holding the same
role; the page lists those a person gave and received, and cancels their own."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.domain import DomainError
from config.web import form_errors, page

from ..forms_delegations import DelegationForm
from ..models import Delegation
from ..permissions import access_delegation
from ..selectors import delegations_for
from ..services.delegations import delegation_cancel, delegation_create


def _grouped(user: User) -> dict[str, list[Delegation]]:
    """The user's delegations in force now, to come, and over (ended or cancelled)."""
    now = timezone.now()
    groups: dict[str, list[Delegation]] = {"active": [], "upcoming": [], "past": []}
    rows = delegations_for(user).annotate(delegator_username=F("delegator__username")).order_by("starts_at", "id")
    for row in rows:
        if row.active:  # type: ignore[attr-defined]
            groups["active"].append(row)
        elif row.cancelled_at is None and row.starts_at > now:
            groups["upcoming"].append(row)
        else:
            groups["past"].append(row)
    groups["past"].reverse()  # the latest first
    return groups


@page
def delegation_list(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    form = DelegationForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            delegation = delegation_create(actor=user, **form.cleaned_data)
        except DomainError as error:
            form_errors(form, error)
        else:
            messages.success(
                request,
                _("%(delegate)s now signs for you as %(role)s while the delegation runs.")
                % {"delegate": delegation.delegate.get_username(), "role": delegation.role.name},
            )
            return redirect("delegations")
    context = {
        "form": form,
        "now": timezone.now(),
        "holds_roles": user.groups.exists(),
        **_grouped(user),
    }
    return render(request, "approvals/delegations.html", context)


@page
@require_POST
def delegation_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = cast(User, request.user)
    delegation = access_delegation(user, pk)
    delegation_cancel(delegation=delegation, actor=user)
    messages.success(request, _("The delegation is cancelled."))
    return redirect("delegations")
