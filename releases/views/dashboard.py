"""Browser pages: the dashboard, a signed-in person's start page: what awaits their sign-off,
their own items, upcoming go-lives, releases at risk and recent activity, in a fixed number
of queries whatever the amount of data."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from approvals.models import ChecklistItem
from approvals.selectors import awaiting_signoff, delegations_to, my_open_items
from approvals.views.signoffs import queue_rows
from config.web import page

from ..selectors import recent_activity, releases_at_risk, upcoming_go_lives

AWAITING_SHOWN = 10
MY_ITEMS_SHOWN = 60


def _my_items(user: User) -> dict[str, list[ChecklistItem]]:
    """The user's unfinished items in three groups, each item once: overdue, due in the
    next days, blocked (not overdue)."""
    groups: dict[str, list[ChecklistItem]] = {"overdue": [], "due_soon": [], "blocked": []}
    for item in my_open_items(user)[:MY_ITEMS_SHOWN]:
        if item.overdue:  # type: ignore[attr-defined]
            groups["overdue"].append(item)
        elif item.state == ChecklistItem.State.BLOCKED:
            groups["blocked"].append(item)
        else:
            groups["due_soon"].append(item)
    return groups


@page
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    now = timezone.now()
    delegations = delegations_to(user, now)
    awaiting = awaiting_signoff(user, delegations=delegations, signable_only=True)
    shown = list(
        awaiting.select_related("release").annotate(approver_role_name=F("approver_role__name"))[:AWAITING_SHOWN]
    )
    context = {
        "awaiting_rows": queue_rows(shown, user=user, delegations=delegations),
        "awaiting_count": len(shown) if len(shown) < AWAITING_SHOWN else awaiting.count(),
        "my_items": _my_items(user),
        "upcoming": upcoming_go_lives(user=user, now=now),
        "at_risk": releases_at_risk(user=user, now=now),
        "activity": recent_activity(user=user),
        "now": now,
    }
    return render(request, "releases/dashboard.html", context)
