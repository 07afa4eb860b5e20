"""Browser pages: the sign-off queue (everything awaiting the signed-in person's roles, and
their delegators'), approving or rejecting several items at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from config.domain import DomainError
from config.web import failure_messages, page

from ..forms_queue import QueueActionForm, QueueFilterForm, Selection
from ..models import ChecklistItem, Delegation, SignOff
from ..permissions import access_item
from ..selectors import delegations_to, signoff_queue
from ..services import signoff_grant
from ..services.signoffs import separation_of_duties_stops

# The page shows this many rows at most (oldest due first); filters narrow the rest.
QUEUE_LIMIT = 500


@dataclass
class QueueRow:
    """An item as the queue offers it: the ways the person may sign it (`ways`: None for
    themselves, or an approver who delegated to them: on their behalf), the one chosen
    (`signing_as`), or why they can't (`refusal`, separation of duties)."""

    item: ChecklistItem
    ways: list[User | None] = field(default_factory=list)
    signing_as: User | None = None
    refusal: str = ""

    @property
    def delegators(self) -> list[User]:
        return [way for way in self.ways if way is not None]

    @property
    def choose(self) -> bool:
        """More than one way to sign it: the row offers the choice."""
        return len(self.ways) > 1


def _involvement(item: ChecklistItem, user: User, approver: User | None) -> str:
    """Why separation of duties keeps `user` (signing for `approver`) from signing, or ''."""
    stopped = separation_of_duties_stops(item, signer=user, approver=approver, relaxed=item.release.allow_self_signoff)
    if stopped is None:
        return ""
    who, as_assignee = stopped
    name = who.get_username()
    if as_assignee:
        return _("you are its assignee") if who == user else _("%(name)s is its assignee") % {"name": name}
    return _("you marked it done") if who == user else _("%(name)s marked it done") % {"name": name}


def queue_rows(
    items: Sequence[ChecklistItem],
    *,
    user: User,
    delegations: list[Delegation],
    chosen: dict[int, int | None] | None = None,
) -> list[QueueRow]:
    """One row per item, with the ways the person may sign it: as themselves (when the item
    awaits their role) and on behalf of each approver who delegated to them and whom it
    awaits. Signing as themselves comes first unless `chosen` says otherwise; when
    separation of duties stops every way, the row says why (the service would refuse it)."""
    chosen = chosen or {}
    rows = []
    for item in items:
        candidates: list[User | None] = [None] if getattr(item, "for_me", False) else []
        candidates += [d.delegator for d in delegations if getattr(item, f"via_{d.pk}", False)]
        reasons = [_involvement(item, user, approver) for approver in candidates]
        ways = [approver for approver, reason in zip(candidates, reasons, strict=True) if not reason]
        if ways:
            wanted = chosen.get(item.pk)
            pick = next((way for way in ways if way is not None and way.pk == wanted), ways[0])
            rows.append(QueueRow(item, ways, pick))
        elif candidates:
            role = getattr(item, "approver_role_name", "")
            refusal = _(
                "You can't sign this off: %(why)s (separation of duties). Another holder of the %(role)s role must."
            ) % {"why": reasons[0], "role": role}
            rows.append(QueueRow(item, refusal=refusal))
    return rows


def _filter_options(queue: Iterable[Mapping[str, Any]]) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    releases: dict[int, str] = {}
    roles: dict[int, str] = {}
    for row in queue:
        releases[row["release_id"]] = f"{row['release__name']} {row['release__version']}".strip()
        roles[row["approver_role_id"]] = str(row["approver_role__name"])
    return sorted(releases.items(), key=lambda r: r[1].lower()), sorted(roles.items(), key=lambda r: r[1].lower())


def _sign(request: HttpRequest, form: QueueActionForm) -> None:
    """Each selected item through signoff_grant on its own (each its own transaction); then a
    message naming those signed and, for each refused, the service's reason."""
    user = request.user
    assert isinstance(user, User)
    decision, comment = form.cleaned_data["decision"], form.cleaned_data["comment"]
    selection: list[Selection] = form.selection()
    approvers = User.objects.in_bulk([pk for _item, pk in selection if pk is not None])
    done: list[str] = []
    refused: list[str] = []
    for item_id, approver_id in selection:
        name = _("item #%(id)s") % {"id": item_id}
        try:
            item = access_item(user, item_id)
            name = f"“{item.title}” ({item.release})"
            on_behalf_of = approvers.get(approver_id) if approver_id is not None else None
            if approver_id is not None and on_behalf_of is None:
                raise DomainError(_("The approver you signed for is gone."), code="no_delegation")
            signoff_grant(item=item, actor=user, decision=decision, comment=comment, on_behalf_of=on_behalf_of)
        except DomainError as error:
            reasons = " ".join(failure_messages(error))
            if decision == SignOff.Decision.REJECT:
                text = _("Not rejected: %(item)s: %(reasons)s")
            else:
                text = _("Not approved: %(item)s: %(reasons)s")
            refused.append(text % {"item": name, "reasons": reasons})
        else:
            done.append(name)
    if done:
        if decision == SignOff.Decision.REJECT:
            text = ngettext("Rejected %(count)d item: %(items)s.", "Rejected %(count)d items: %(items)s.", len(done))
        else:
            text = ngettext("Approved %(count)d item: %(items)s.", "Approved %(count)d items: %(items)s.", len(done))
        messages.success(request, text % {"count": len(done), "items": ", ".join(done)})
    for text in refused:
        messages.error(request, text)


@page
def signoff_queue_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    form = QueueActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _sign(request, form)
        return redirect(request.get_full_path())
    filters = QueueFilterForm(request.GET)
    delegations = delegations_to(user)
    queue = signoff_queue(user, delegations=delegations)
    releases, roles = _filter_options(
        list(
            queue.order_by()
            .values("release_id", "release__name", "release__version", "approver_role_id", "approver_role__name")
            .distinct()
        )
    )
    if (release_id := filters.value("release")) is not None:
        queue = queue.filter(release_id=release_id)
    if (role_id := filters.value("role")) is not None:
        queue = queue.filter(approver_role_id=role_id)
    selected = dict(form.selection()) if form.is_bound and "selected" in form.cleaned_data else {}
    items = list(queue[: QUEUE_LIMIT + 1])
    rows = queue_rows(items[:QUEUE_LIMIT], user=user, delegations=delegations, chosen=selected)
    context = {
        "rows": rows,
        "delegations": delegations,
        "form": form,
        "selected": selected,
        "release_options": releases,
        "role_options": roles,
        "release_filter": release_id,
        "role_filter": role_id,
        "signable": sum(1 for row in rows if not row.refusal),
        "truncated": len(items) > QUEUE_LIMIT,
        "limit": QUEUE_LIMIT,
    }
    return render(request, "approvals/signoff_queue.html", context)
