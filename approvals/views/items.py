"""The item panel: inline on the release page (htmx asks for the `panel` fragment) and a page
of its own at /items/<id>/ (for links in e-mails). Working the item, assigning it, evidence
(a link or an uploaded file, served only to those who see the release), comments, and
sign-offs, with the reason when the viewer can't sign."""

from __future__ import annotations

import mimetypes
from pathlib import PurePath
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.domain import DomainError
from config.web import AuthedRequest, page, submitted
from releases import permissions as release_permissions

from .. import services
from ..forms import CommentForm, ItemManageForm, ItemWorkForm, RevokeForm, SignOffForm
from ..models import ChecklistItem, Comment, Delegation, SignOff
from ..permissions import access_item, access_signoff
from ..selectors import active_delegation_q, checklist_items

TEMPLATE = "approvals/item_detail.html"


def _item(request: AuthedRequest, pk: int) -> ChecklistItem:
    return access_item(request.user, pk, queryset=checklist_items().select_related("release", "release__project"))


def _delegators(user: Any, item: ChecklistItem) -> Any:
    """People who delegated the item's role to the viewer now (they may sign on their behalf)."""
    if item.approver_role_id is None:
        return None
    now = timezone.now()
    given = Delegation.objects.filter(active_delegation_q(now), delegate=user, role_id=item.approver_role_id)
    ids = list(given.values_list("delegator_id", flat=True))
    return get_user_model().objects.filter(pk__in=ids).order_by("username") if ids else None


def _manage_initial(item: ChecklistItem) -> dict[str, Any]:
    return {"assignee": item.assignee_id, "due_at": item.due_at and timezone.localtime(item.due_at)}


def _context(request: AuthedRequest, item: ChecklistItem, **forms_given: forms.Form) -> dict[str, Any]:
    user = request.user
    release = item.release
    is_manager = release_permissions.can_manage_release(user, release)
    delegators = _delegators(user, item)
    refusal = None
    if item.needs_signoff:
        refusal = services.signoff_refusal(item=item, actor=user)
        if refusal is not None and delegators is not None:
            # They may still sign on someone's behalf: let the service judge that choice.
            refusal = None if any(
                services.signoff_refusal(item=item, actor=user, on_behalf_of=d) is None for d in delegators
            ) else refusal  # fmt: skip
    comments = Comment.objects.filter(item=item).select_related("author").order_by("created_at", "id")
    return {
        "item": item,
        "release": release,
        "may_work": (is_manager or item.assignee_id == user.pk) and not release.is_closed,
        "may_manage": is_manager and not release.is_closed,
        "work_form": forms_given.get("work_form")
        or ItemWorkForm(initial=ItemWorkForm.initial_for(item), has_file=bool(item.evidence_file)),
        "manage_form": forms_given.get("manage_form")
        or ItemManageForm(
            initial={"assignee": item.assignee_id, "due_at": item.due_at and timezone.localtime(item.due_at)}
        ),
        "comment_form": forms_given.get("comment_form") or CommentForm(),
        "signoff_form": forms_given.get("signoff_form") or SignOffForm(delegators=delegators),
        "refusal": refusal,
        "comments": comments,
        "evidence_name": PurePath(item.evidence_file.name).name if item.evidence_file else "",
        "my_signoffs": {s.pk for s in item.signoff_list if user.pk in (s.approver_id, s.signed_by_id)},  # type: ignore[attr-defined]
    }


def _show(request: AuthedRequest, item: ChecklistItem, status: int = 200, **forms_given: forms.Form) -> HttpResponse:
    """The panel (to htmx) or the whole item page, with any form that has errors."""
    name = f"{TEMPLATE}#panel" if request.htmx and not request.htmx.boosted else TEMPLATE
    return render(request, name, _context(request, item, **forms_given), status=status)


def _done(request: AuthedRequest, pk: int, message: str) -> HttpResponse:
    messages.success(request, message)
    if request.htmx:
        return _show(request, _item(request, pk))
    return redirect("item-detail", pk=pk)


@page
def item_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return render(request, TEMPLATE, _context(request, _item(request, pk)))


@page
def item_panel(request: AuthedRequest, pk: int) -> HttpResponse:
    return render(request, f"{TEMPLATE}#panel", _context(request, _item(request, pk)))


@page
@require_POST
def item_work(request: AuthedRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    form = ItemWorkForm(request.POST, request.FILES, has_file=bool(item.evidence_file))
    if submitted(form, lambda _data: services.item_update(item=item, actor=request.user, **form.changes())):
        return _done(request, pk, _("Item saved."))
    return _show(request, _item(request, pk), 400, work_form=form)


@page
@require_POST
def item_manage(request: AuthedRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    form = ItemManageForm(request.POST)
    if submitted(form, lambda data: services.item_update(item=item, actor=request.user, **data)):
        return _done(request, pk, _("Item saved."))
    return _show(request, _item(request, pk), 400, manage_form=form)


@page
@require_POST
def item_comment(request: AuthedRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    form = CommentForm(request.POST)
    if submitted(form, lambda data: services.comment_create(item=item, actor=request.user, body=data["body"])):
        return _done(request, pk, _("Comment added."))
    return _show(request, _item(request, pk), 400, comment_form=form)


@page
@require_POST
def item_signoff(request: AuthedRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    form = SignOffForm(request.POST, delegators=_delegators(request.user, item))

    def sign(data: dict[str, Any]) -> Any:
        return services.signoff_grant(item=item, actor=request.user, decision=data["decision"],
                                      comment=data["comment"], on_behalf_of=data.get("on_behalf_of"))  # fmt: skip

    if submitted(form, sign):
        approved = form.cleaned_data["decision"] == SignOff.Decision.APPROVE
        return _done(request, pk, _("Approved.") if approved else _("Rejected: the item goes back to work."))
    return _show(request, _item(request, pk), 400, signoff_form=form)


@page
@require_POST
def signoff_revoke(request: AuthedRequest, pk: int) -> HttpResponse:
    signoff = access_signoff(request.user, pk)
    form = RevokeForm(request.POST)
    if form.is_valid():
        try:
            services.signoff_revoke(signoff=signoff, actor=request.user, reason=form.cleaned_data["reason"])
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Sign-off revoked."))
    else:
        messages.error(request, _("Say why you revoke it."))
    if request.htmx:
        return _show(request, _item(request, signoff.item_id))
    return redirect("item-detail", pk=signoff.item_id)


@page
def evidence_download(request: AuthedRequest, pk: int) -> FileResponse:
    """The item's evidence file, to those who see the release (404 to everyone else)."""
    item = access_item(request.user, pk)
    if not item.evidence_file:
        raise Http404("No evidence file.")
    name = PurePath(item.evidence_file.name).name
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    inline = kind in ("application/pdf", "image/png", "image/jpeg", "image/gif", "text/plain")
    response = FileResponse(item.evidence_file.open("rb"), as_attachment=not inline, filename=name, content_type=kind)
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
