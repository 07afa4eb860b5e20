"""Browser pages: freeze windows. Everyone reads the ones they see (global and their
projects'); administrators create, change and delete them, through the services."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.domain import DomainError, Forbidden
from config.web import form_errors, page

from .. import permissions
from ..models import FreezeWindow, Project
from ..selectors import freeze_window_occurrences
from ..services.freeze_windows import freeze_window_create, freeze_window_delete, freeze_window_update

ONE_OFF, WEEKLY = "one_off", "weekly"
WEEKDAYS = [
    (0, gettext_lazy("Monday")),
    (1, gettext_lazy("Tuesday")),
    (2, gettext_lazy("Wednesday")),
    (3, gettext_lazy("Thursday")),
    (4, gettext_lazy("Friday")),
    (5, gettext_lazy("Saturday")),
    (6, gettext_lazy("Sunday")),
]
WEEKDAY_NAMES = dict(WEEKDAYS)
ONE_OFF_FIELDS = ("starts_at", "ends_at")
WEEKLY_FIELDS = ("weekday", "start_time", "end_time")


def _zones() -> list[tuple[str, str]]:
    """UTC, then the zones named Area/City (not the legacy aliases)."""
    named = sorted(name for name in zoneinfo.available_timezones() if "/" in name)
    return [("UTC", "UTC"), *((name, name.replace("_", " ")) for name in named)]


class FreezeWindowForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    project = forms.ModelChoiceField(
        label=gettext_lazy("Applies to"),
        queryset=Project.objects.order_by("name", "id"),
        required=False,
        empty_label=gettext_lazy("All projects (global)"),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=[(ONE_OFF, gettext_lazy("One-off")), (WEEKLY, gettext_lazy("Weekly"))],
        widget=forms.RadioSelect,
        initial=ONE_OFF,
    )
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Starts"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("One-off windows, in your time zone."),
    )
    ends_at = forms.DateTimeField(
        label=gettext_lazy("Ends"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    weekday = forms.TypedChoiceField(
        label=gettext_lazy("Every"),
        choices=[("", "---------"), *WEEKDAYS],
        coerce=int,
        empty_value=None,
        required=False,
        help_text=gettext_lazy("Weekly windows."),
    )
    start_time = forms.TimeField(
        label=gettext_lazy("From"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    end_time = forms.TimeField(
        label=gettext_lazy("Until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=gettext_lazy("An end not after the start runs past midnight."),
    )
    timezone = forms.ChoiceField(label=gettext_lazy("Time zone of the weekly times"), choices=_zones, initial="UTC")
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def window_fields(self) -> dict[str, Any]:
        """What the services take: the other kind's fields emptied, a one-off window's zone
        being the one its times were typed in (the viewer's)."""
        data = dict(self.cleaned_data)
        weekly = data.pop("kind") == WEEKLY
        for name in ONE_OFF_FIELDS if weekly else WEEKLY_FIELDS:
            data[name] = None
        zone = data.pop("timezone")
        data["timezone_name"] = zone if weekly else timezone.get_current_timezone_name()
        return data

    @classmethod
    def of(cls, window: FreezeWindow) -> FreezeWindowForm:
        initial = {
            name: getattr(window, name)
            for name in ("name", "starts_at", "ends_at", "weekday", "start_time", "end_time", "timezone", "reason")
        }
        initial["project"] = window.project_id
        initial["kind"] = WEEKLY if window.is_weekly else ONE_OFF
        return cls(initial=initial)


def _require_admin(request: HttpRequest) -> None:
    if not permissions.can_manage_freeze_windows(request.user):
        raise Forbidden(_("Only administrators can change freeze windows."), code="forbidden")


@page
def freeze_window_list(request: HttpRequest) -> HttpResponse:
    windows = list(
        permissions.freeze_windows_visible_to(request.user)
        .select_related("project")
        .only("name", "project__name", *ONE_OFF_FIELDS, *WEEKLY_FIELDS, "timezone", "reason")
        .order_by("name", "id")
    )
    now = timezone.now()
    one_off = sorted((w for w in windows if not w.is_weekly), key=lambda w: (w.starts_at, w.pk))
    weekly = [w for w in windows if w.is_weekly]
    for window in weekly:
        window.next_occurrences = freeze_window_occurrences(window, after=now)  # type: ignore[attr-defined]
        window.weekday_name = WEEKDAY_NAMES[window.weekday]  # type: ignore[attr-defined,index]
    context = {
        "one_off": one_off,
        "weekly": weekly,
        "now": now,
        "can_edit": permissions.can_manage_freeze_windows(request.user),
    }
    return render(request, "releases/freeze_windows.html", context)


@page
def freeze_window_new(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    form = FreezeWindowForm(request.POST or None, initial={"timezone": timezone.get_current_timezone_name()})
    if request.method == "POST" and form.is_valid():
        try:
            window = freeze_window_create(actor=request.user, **form.window_fields())  # type: ignore[arg-type]
        except DomainError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Freeze window “%(name)s” created.") % {"name": window.name})
            return redirect("freeze-window-list")
    return render(request, "releases/freeze_windows_form.html", {"form": form, "window": None})


@page
def freeze_window_edit(request: HttpRequest, pk: int) -> HttpResponse:
    window = permissions.access_freeze_window(request.user, pk)
    _require_admin(request)
    form = FreezeWindowForm(request.POST) if request.method == "POST" else FreezeWindowForm.of(window)
    if request.method == "POST" and form.is_valid():
        try:
            window = freeze_window_update(window=window, actor=request.user, **form.window_fields())  # type: ignore[arg-type]
        except DomainError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Freeze window “%(name)s” saved.") % {"name": window.name})
            return redirect("freeze-window-list")
    return render(request, "releases/freeze_windows_form.html", {"form": form, "window": window})


@page
def freeze_window_delete_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    window = permissions.access_freeze_window(request.user, pk)
    _require_admin(request)
    if request.method == "POST":
        freeze_window_delete(window=window, actor=request.user)  # type: ignore[arg-type]
        messages.success(request, _("Freeze window “%(name)s” deleted.") % {"name": window.name})
        return redirect("freeze-window-list")
    return render(request, "releases/freeze_windows_delete.html", {"window": window})
