"""API of the readiness reports and the checklist's CSV export. Reports are read by whoever
sees their release; a report not finished has no file yet (409, code `report_not_ready`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import LIST, READ, VisibleListView, errors
from config.domain import Conflict, failure
from releases.permissions import access_release

from ..checklist_csv import checklist_csv, checklist_csv_name
from ..models import Report
from ..permissions import access_report
from ..selectors import reports_of
from ..services import report_request
from ..services.reports import report_download_name


class ReportSerializer(serializers.ModelSerializer):
    requested_by_username = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField(help_text="Where to download the PDF; null until it is done.")

    class Meta:
        model = Report
        fields = [
            "id", "release", "kind", "status", "language", "email_stakeholders", "requested_by",
            "requested_by_username", "created_at", "finished_at", "error", "size", "pdf_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_requested_by_username(self, report: Report) -> str | None:
        name = getattr(report, "requested_by_username", None)
        if name is None and report.requested_by_id:
            name = report.requested_by.username if report.requested_by else None
        return name

    def get_pdf_url(self, report: Report) -> str | None:
        if report.status != Report.Status.DONE:
            return None
        return reverse("api-report-pdf", kwargs={"pk": report.pk})


class ReportRequestSerializer(serializers.Serializer):
    email_stakeholders = serializers.BooleanField(
        required=False, default=False, help_text="Mail it to the stakeholders when done (release managers only)."
    )
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES, required=False, help_text="Default: the requester's profile language."
    )


class ReleaseReportListView(VisibleListView):
    queryset = Report.objects.none()
    serializer_class = ReportSerializer

    def visible(self) -> QuerySet[Report]:
        return reports_of(access_release(self.request.user, self.kwargs["pk"]))

    @extend_schema(responses={200: ReportSerializer(many=True), **errors(*LIST)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=ReportRequestSerializer,
        responses={202: ReportSerializer, **errors(400, 401, 403, 404)},
        description="Queue a PDF readiness report; poll `GET /reports/{id}/` until `status` is `done`.",
    )
    def post(self, request: Request, pk: int) -> Response:
        release = access_release(request.user, pk)
        data = ReportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = report_request(release=release, actor=request.user, **data.validated_data)
        return Response(ReportSerializer(report).data, status=202)


class ReportDetailView(APIView):
    @extend_schema(responses={200: ReportSerializer, **errors(*READ)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(ReportSerializer(access_report(request.user, pk)).data)


def report_file_response(report: Report) -> FileResponse:
    """The report's PDF as a download; Conflict while it is not made yet."""
    if report.status != Report.Status.DONE or not report.pdf:
        raise Conflict(
            _("The report is not ready yet."),
            code="report_not_ready",
            failures=[failure("report_not_ready", report.get_status_display())],
        )
    return FileResponse(
        report.pdf.open("rb"), as_attachment=True, filename=report_download_name(report), content_type="application/pdf"
    )


class ReportPdfView(APIView):
    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The report's PDF."),
            **errors(401, 404, 409),
        },
        description="The PDF, as an attachment. 409 (`report_not_ready`) until the report's status is `done`.",
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        return report_file_response(access_report(request.user, pk))


def checklist_csv_response(release: Any) -> HttpResponse:
    response = HttpResponse(checklist_csv(release.pk), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{checklist_csv_name(release)}"'
    return response


class ReleaseChecklistCsvView(APIView):
    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="The checklist, UTF-8 with a byte-order mark, a header row."
            ),
            **errors(*READ),
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        return checklist_csv_response(access_release(request.user, pk))
