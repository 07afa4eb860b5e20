"""Browser pages of the readiness reports: the release's reports (a box on the release page,
loaded there by htmx, and a page of its own without JavaScript), asking for one, the
download, the report's print page, and the checklist's CSV."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.domain import Conflict, DomainError
from config.web import AuthedRequest, failure_messages, page
from releases.permissions import access_release, can_manage_release

from ..api.reports import checklist_csv_response, report_file_response
from ..models import Report
from ..permissions import access_report
from ..selectors import report_context, reports_of
from ..services import report_request

SHOWN = 10


class ReportRequestForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=settings.LANGUAGES, required=False)
    email_stakeholders = forms.BooleanField(label=gettext_lazy("E-mail it to the stakeholders"), required=False)


def _box(request: AuthedRequest, pk: int, form: ReportRequestForm | None = None, status: int = 200) -> HttpResponse:
    release = access_release(request.user, pk)
    reports = list(reports_of(release)[:SHOWN])
    context = {
        "release": release,
        "reports": reports,
        "waiting": any(r.status in (Report.Status.PENDING, Report.Status.RUNNING) for r in reports),
        "can_mail": can_manage_release(request.user, release),
        "form": form or ReportRequestForm(initial={"language": translation.get_language()}),
    }
    template = "notifications/reports.html#box" if request.htmx else "notifications/reports.html"
    return render(request, template, context, status=status)


@page
def release_reports(request: AuthedRequest, pk: int) -> HttpResponseBase:
    """GET: the release's latest reports and the form to ask for one; POST: ask for one."""
    if request.method != "POST":
        return _box(request, pk)
    release = access_release(request.user, pk)
    form = ReportRequestForm(request.POST)
    if form.is_valid():
        try:
            report_request(
                release=release,
                actor=request.user,
                email_stakeholders=form.cleaned_data["email_stakeholders"],
                language=form.cleaned_data["language"] or None,
            )
        except DomainError as error:
            for line in failure_messages(error):
                form.add_error(None, line)
            return _box(request, pk, form, status=400 if request.htmx else 200)
        if not request.htmx:
            messages.success(request, _("The report is being made; it appears in the list when it is ready."))
            return redirect("release-reports", pk=pk)
        return _box(request, pk)
    return _box(request, pk, form, status=400 if request.htmx else 200)


@page
def report_download(request: AuthedRequest, pk: int) -> HttpResponseBase:
    report = access_report(request.user, pk)
    try:
        return report_file_response(report)
    except Conflict as error:
        raise Http404(error.message) from error


@page
def release_report_print(request: AuthedRequest, pk: int) -> HttpResponse:
    """The report as a page to read or print, in the reader's language and time zone."""
    release = access_release(request.user, pk)
    return render(request, "notifications/report.html", {**report_context(release.pk), "pdf": False})


@page
def release_checklist_csv(request: AuthedRequest, pk: int) -> HttpResponse:
    return checklist_csv_response(access_release(request.user, pk))
