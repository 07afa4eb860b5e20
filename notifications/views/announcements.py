"""Browser pages: audiences (list, new, edit with a CSV upload), an announcement's composer
(from the release page, with a preview in the audience's language) and its page, whose
progress polls while it is being sent. Every write goes through the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from config.domain import DomainError, Forbidden, Invalid
from config.web import AuthedRequest, form_errors, page
from releases.models import Project
from releases.permissions import access_release, projects_administered_by, releases_managed_by

from .. import permissions
from ..api.announcements import audiences_counted
from ..models import Announcement, Audience
from ..services.announcements import (
    announcement_cancel,
    announcement_create,
    announcement_preview,
    announcement_render,
    placeholder_help,
    require_announceable,
)
from ..services.audiences import (
    ImportReport,
    audience_create,
    audience_delete,
    audience_import_csv,
    audience_update,
)

# --- audiences -----------------------------------------------------------------------------


def _projects_for(user: Any) -> QuerySet[Project]:
    administered = projects_administered_by(user).values("pk")
    managed = releases_managed_by(user).values("project_id")
    return Project.objects.filter(Q(pk__in=administered) | Q(pk__in=managed)).order_by("name", "id")


class AudienceForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    project = forms.ModelChoiceField(
        label=gettext_lazy("Project"),
        queryset=Project.objects.none(),
        required=False,
        empty_label=gettext_lazy("All projects (global)"),
    )
    language = forms.ChoiceField(label=gettext_lazy("Language of the announcements"), choices=settings.LANGUAGES)
    addresses = forms.CharField(
        label=gettext_lazy("Addresses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("One a line (or separated by commas); duplicates are merged."),
    )
    file = forms.FileField(
        label=gettext_lazy("Add from a CSV file"),
        required=False,
        help_text=gettext_lazy("UTF-8, an address a row; bad rows are skipped and listed."),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = _projects_for(user)  # type: ignore[attr-defined]
        if not (user.is_staff or user.is_superuser):
            self.fields["project"].required = True


def _addresses_text(audience: Audience) -> str:
    emails = audience.members.filter(unsubscribed_at__isnull=True).order_by("email").values_list("email", flat=True)
    return "\n".join(emails)


@page
def audience_list(request: AuthedRequest) -> HttpResponse:
    audiences = audiences_counted(permissions.audiences_visible_to(request.user).select_related("project"))
    context = {"audiences": audiences, "can_create": permissions.manages_any_audience(request.user)}
    return render(request, "notifications/audiences.html", context)


def _import(request: AuthedRequest, form: AudienceForm, audience: Audience) -> ImportReport | None:
    upload = form.cleaned_data.get("file")
    if upload is None:
        return None
    try:
        return audience_import_csv(audience=audience, actor=request.user, content=upload.read())
    except DomainError as error:
        form_errors(form, Invalid(error.message, code=error.code, fields={"file": error.fields.get("file", [])}))
        return None


@page
def audience_new(request: AuthedRequest) -> HttpResponse:
    if not permissions.manages_any_audience(request.user):
        raise Forbidden(_("Only project administrators and release managers manage audiences."), code="forbidden")
    form = AudienceForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            audience = audience_create(actor=request.user, **_audience_fields(data))
        except DomainError as error:
            form_errors(form, error)
        else:
            report = _import(request, form, audience)
            messages.success(request, _("Audience “%(name)s” created.") % {"name": audience.name})
            if (report is not None and report.bad_rows) or form.errors:
                return _edit_page(request, audience, report=report, form=form)
            return redirect("audience-edit", audience.pk)
    return render(request, "notifications/audience_form.html", {"form": form, "audience": None})


def _audience_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The form's fields as the audience services take them (addresses: one a line or comma)."""
    return {
        "name": data["name"],
        "project": data["project"],
        "language": data["language"],
        "addresses": data["addresses"].replace(",", "\n").split(),
    }


def _edit_page(
    request: AuthedRequest, audience: Audience, *, report: ImportReport | None = None, form: AudienceForm | None = None
) -> HttpResponse:
    """The edit page: the form as typed when it has errors, else as stored; an import's report."""
    if form is None or not form.is_bound or not form.errors:
        form = AudienceForm(
            initial={
                "name": audience.name,
                "project": audience.project_id,
                "language": audience.language,
                "addresses": _addresses_text(audience),
            },
            user=request.user,
        )
    context = {
        "form": form,
        "audience": audiences_counted(Audience.objects.filter(pk=audience.pk)).get(),
        "report": report,
    }
    return render(request, "notifications/audience_form.html", context, status=400 if form.errors else 200)


@page
def audience_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    audience = permissions.access_audience(request.user, pk, manage=True)
    if request.method != "POST":
        return _edit_page(request, audience)
    form = AudienceForm(request.POST, request.FILES, user=request.user)
    if not form.is_valid():
        return _edit_page(request, audience, form=form)
    data = form.cleaned_data
    try:
        audience_update(audience=audience, actor=request.user, **_audience_fields(data))
    except DomainError as error:
        form_errors(form, error)
        return _edit_page(request, audience, form=form)
    report = _import(request, form, audience)
    messages.success(request, _("Audience “%(name)s” saved.") % {"name": audience.name})
    if form.errors or (report is not None and report.bad_rows):
        return _edit_page(request, audience, report=report, form=form)
    if report is not None:
        messages.info(
            request,
            _("%(added)s addresses added from the file, %(merged)s already there.")
            % {"added": report.added, "merged": report.merged},
        )
    return redirect("audience-edit", audience.pk)


@page
@require_POST
def audience_delete_view(request: AuthedRequest, pk: int) -> HttpResponse:
    audience = permissions.access_audience(request.user, pk, manage=True)
    try:
        audience_delete(audience=audience, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("audience-edit", audience.pk)
    messages.success(request, _("Audience “%(name)s” deleted.") % {"name": audience.name})
    return redirect("audience-list")


# --- announcements -------------------------------------------------------------------------


class AnnouncementForm(forms.Form):
    audience = forms.ModelChoiceField(label=gettext_lazy("Audience"), queryset=Audience.objects.none())
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Announcement.Kind.choices)
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200)
    body = forms.CharField(label=gettext_lazy("Message"), widget=forms.Textarea(attrs={"rows": 10}), max_length=20000)
    send_at = forms.DateTimeField(
        label=gettext_lazy("Send at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("Empty: now. In your time zone."),
    )

    def __init__(self, *args: Any, audiences: QuerySet[Audience], kinds: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["audience"].queryset = audiences  # type: ignore[attr-defined]
        self.fields["kind"].choices = [(k, label) for k, label in Announcement.Kind.choices if k in kinds]  # type: ignore[attr-defined]
        self.fields["body"].help_text = _("Placeholders: %(names)s") % {"names": placeholder_help()}


@page
def announcement_new(request: AuthedRequest, pk: int) -> HttpResponse:
    release = access_release(request.user, pk, manage=True)
    try:
        kinds = require_announceable(release)
    except DomainError as error:  # the page offers no Announce then; a bookmark says why
        messages.error(request, error.message)
        return redirect("release-detail", release.pk)
    audiences = permissions.audiences_for_release(request.user, release).order_by("name", "id")
    form = AnnouncementForm(request.POST or None, audiences=audiences, kinds=kinds)
    preview = None
    if request.method == "POST" and form.is_valid():
        args = {"release": release, "actor": request.user, **form.cleaned_data}
        try:
            if "preview" in request.POST:
                preview = announcement_preview(**args)
            else:
                announcement = announcement_create(**args)
                later = announcement.send_at > timezone.now()
                messages.success(request, _("Announcement scheduled.") if later else _("Announcement being sent."))
                return redirect("announcement-detail", announcement.pk)
        except DomainError as error:
            form_errors(form, error)
    context = {
        "form": form,
        "release": release,
        "preview": preview,
        "audiences": audiences,
        "announcements": release.announcements.order_by("-send_at", "-id")[:20],
    }
    return render(request, "notifications/announcement_form.html", context, status=400 if form.errors else 200)


def _announcement_context(request: AuthedRequest, pk: int) -> dict[str, Any]:
    announcement = permissions.access_announcement(request.user, pk)
    percent = round(100 * announcement.sent / announcement.total) if announcement.total else 0
    # Every 2 s while it is being sent or about to be; now and then while it waits for later.
    poll = None
    if announcement.status == Announcement.Status.SENDING or (
        announcement.status == Announcement.Status.SCHEDULED
        and announcement.send_at <= timezone.now() + dt.timedelta(minutes=1)
    ):
        poll = "2s"
    elif announcement.status == Announcement.Status.SCHEDULED:
        poll = "60s"
    waiting = 0
    if announcement.status == Announcement.Status.SCHEDULED and announcement.audience:
        waiting = announcement.audience.members.filter(unsubscribed_at__isnull=True).count()
    return {"announcement": announcement, "waiting": waiting, "percent": percent, "poll": poll}


@page
def announcement_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    context = _announcement_context(request, pk)
    announcement = context["announcement"]
    context["is_manager"] = releases_managed_by(request.user).filter(pk=announcement.release_id).exists()
    context["subject"], context["body"] = announcement_render(announcement)  # as the addresses get it
    return render(request, "notifications/announcement_detail.html", context)


@page
def announcement_progress_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """The progress fragment the announcement's page polls while it runs."""
    return render(request, "notifications/announcement_detail.html#progress", _announcement_context(request, pk))


@page
@require_POST
def announcement_cancel_view(request: AuthedRequest, pk: int) -> HttpResponse:
    announcement = permissions.access_announcement(request.user, pk)
    try:
        announcement_cancel(announcement=announcement, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Announcement cancelled."))
    return redirect("announcement-detail", announcement.pk)
