"""Browser pages of the in-app inbox and of how a person wants to be told."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.domain import DomainError
from config.web import AuthedRequest, form_errors, page

from ..channels import said_of
from ..forms import PreferencesForm
from ..models import Profile
from ..permissions import access_notification
from ..selectors import inbox_of, preferences_of
from ..services import notification_read, notifications_read_all, preferences_update

PAGE_SIZE = 25


@page
def inbox(request: AuthedRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    rows = Paginator(inbox_of(request.user, unread=True if unread_only else None), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    time_zone = Profile.objects.filter(user=request.user).values_list("time_zone", flat=True).first() or None
    entries = [(row, said_of(row, time_zone)) for row in rows]
    context = {
        "page_obj": rows,
        "entries": entries,
        "unread_only": unread_only,
        "query": "unread=1" if unread_only else "",
    }
    return render(request, "notifications/inbox.html", context)


@page
@require_POST
def inbox_read(request: AuthedRequest, pk: int) -> HttpResponse:
    """Mark one entry read, and follow its link when asked to."""
    row = notification_read(notification=access_notification(request.user, pk), actor=request.user)
    if request.POST.get("open"):
        path = said_of(row).path
        if path:
            return redirect(path)
    return redirect("inbox")


@page
@require_POST
def inbox_read_all(request: AuthedRequest) -> HttpResponse:
    marked = notifications_read_all(actor=request.user)
    messages.success(request, _("%(count)s notifications marked read.") % {"count": marked})
    return redirect("inbox")


@page
def preferences(request: AuthedRequest) -> HttpResponse:
    current = preferences_of(request.user)
    form = PreferencesForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            preferences_update(user=request.user, actor=request.user, preferences=form.cleaned_data)
        except DomainError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Your notification preferences are saved."))
            return redirect("notification-preferences")
    return render(request, "notifications/preferences.html", {"form": form})
