"""REST API of audiences and announcements (API.md). Views parse input, reach objects
through the access helpers, call one service and serialize."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import LIST, READ, WRITE, AwareDateTimeField, VisibleListView, errors
from config.domain import Invalid, NotFound
from releases.permissions import access_project, access_release

from .. import permissions
from ..models import Announcement, Audience
from ..services.announcements import announcement_create
from ..services.audiences import audience_create, audience_delete, audience_import_csv, audience_update

LANGUAGES = [code for code, _name in settings.LANGUAGES]

# --- audiences -----------------------------------------------------------------------------


def audiences_counted(queryset: QuerySet[Audience]) -> QuerySet[Audience]:
    return queryset.annotate(count=Count("members", filter=Q(members__unsubscribed_at__isnull=True))).order_by(
        "name", "id"
    )


class AudienceListSerializer(serializers.ModelSerializer):
    project = serializers.IntegerField(source="project_id", allow_null=True, read_only=True)
    count = serializers.IntegerField(read_only=True, help_text="Subscribed addresses.")

    class Meta:
        model = Audience
        fields = ["id", "name", "project", "language", "count", "created_at", "updated_at"]
        read_only_fields = fields


class AudienceSerializer(AudienceListSerializer):
    addresses = serializers.SerializerMethodField(help_text="The subscribed addresses, lower-case, sorted.")

    class Meta(AudienceListSerializer.Meta):
        fields = [*AudienceListSerializer.Meta.fields, "addresses"]
        read_only_fields = fields

    def get_addresses(self, obj: Audience) -> list[str]:
        return list(obj.members.filter(unsubscribed_at__isnull=True).order_by("email").values_list("email", flat=True))


class AudienceWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    project = serializers.IntegerField(
        min_value=1, max_value=2**62, required=False, allow_null=True, help_text="Null: a global audience (staff)."
    )
    language = serializers.ChoiceField(choices=LANGUAGES, default="en")
    addresses = serializers.ListField(
        child=serializers.CharField(max_length=1000, allow_blank=True),
        required=False,
        default=list,
        max_length=100_000,
        help_text="E-mail addresses; duplicates are merged (case-insensitive), invalid ones listed in a 400.",
    )


class AudienceUpdateSerializer(AudienceWriteSerializer):
    name = serializers.CharField(max_length=200, required=False)
    language = serializers.ChoiceField(choices=LANGUAGES, required=False)
    addresses = serializers.ListField(
        child=serializers.CharField(max_length=1000, allow_blank=True),
        required=False,
        max_length=100_000,
        help_text="Replaces the list; unsubscribed addresses stay unsubscribed.",
    )


def _project(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    if "project" in data and data["project"] is not None:
        try:
            data["project"] = access_project(request.user, data["project"])
        except NotFound:
            raise Invalid.field("project", f"Unknown project {data['project']}.", code="unknown_project") from None
    return data


def _valid(serializer_class: type[serializers.Serializer], request: Request, **kwargs: Any) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _audience_data(request: Request, pk: int) -> dict[str, Any]:
    audience = audiences_counted(permissions.audiences_visible_to(request.user)).get(pk=pk)
    return AudienceSerializer(audience).data


class AudienceListView(VisibleListView):
    queryset = Audience.objects.none()
    serializer_class = AudienceListSerializer

    def visible(self) -> QuerySet[Audience]:
        return audiences_counted(permissions.audiences_visible_to(self.request.user))

    @extend_schema(responses={200: AudienceListSerializer(many=True), **errors(*LIST)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=AudienceWriteSerializer, responses={201: AudienceSerializer, **errors(400, 401, 403)})
    def post(self, request: Request) -> Response:
        data = _project(request, _valid(AudienceWriteSerializer, request))
        audience = audience_create(actor=request.user, **data)
        return Response(_audience_data(request, audience.pk), status=201)


class AudienceDetailView(APIView):
    @extend_schema(responses={200: AudienceSerializer, **errors(*READ)})
    def get(self, request: Request, pk: int) -> Response:
        permissions.access_audience(request.user, pk)
        return Response(_audience_data(request, pk))

    @extend_schema(request=AudienceUpdateSerializer, responses={200: AudienceSerializer, **errors(*WRITE)})
    def patch(self, request: Request, pk: int) -> Response:
        audience = permissions.access_audience(request.user, pk, manage=True)
        data = _project(request, _valid(AudienceUpdateSerializer, request, partial=True))
        audience_update(audience=audience, actor=request.user, **data)
        return Response(_audience_data(request, pk))

    @extend_schema(responses={204: None, **errors(401, 403, 404, 409)})
    def delete(self, request: Request, pk: int) -> Response:
        audience_delete(audience=permissions.access_audience(request.user, pk, manage=True), actor=request.user)
        return Response(status=204)


class AudienceImportSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A CSV file (UTF-8), an address a row (in any column); a header row is skipped."
    )


ImportReportSerializer = inline_serializer(
    name="AudienceImportReport",
    fields={
        "added": serializers.IntegerField(),
        "merged": serializers.IntegerField(help_text="Already in the audience, or twice in the file."),
        "bad_rows": serializers.ListField(
            child=inline_serializer(
                name="AudienceImportBadRow",
                fields={
                    "line": serializers.IntegerField(),
                    "value": serializers.CharField(),
                    "message": serializers.CharField(),
                },
            )
        ),
        "audience": AudienceListSerializer(),
    },
)


class AudienceImportView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": AudienceImportSerializer},
        responses={200: ImportReportSerializer, **errors(400, 401, 403, 404)},
        description="Adds the addresses of a CSV file; bad rows are skipped and reported with their line numbers.",
    )
    def post(self, request: Request, pk: int) -> Response:
        audience = permissions.access_audience(request.user, pk, manage=True)
        upload = _valid(AudienceImportSerializer, request)["file"]
        report = audience_import_csv(audience=audience, actor=request.user, content=upload.read())
        counted = audiences_counted(Audience.objects.filter(pk=pk)).get()
        return Response({**report.as_dict(), "audience": AudienceListSerializer(counted).data})


# --- announcements -------------------------------------------------------------------------


class AnnouncementSerializer(serializers.ModelSerializer):
    release = serializers.IntegerField(source="release_id", read_only=True)
    audience = serializers.IntegerField(source="audience_id", allow_null=True, read_only=True)

    class Meta:
        model = Announcement
        fields = [
            "id", "release", "audience", "kind", "subject", "body", "language", "send_at", "status",
            "sent", "failed", "total", "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


class AnnouncementWriteSerializer(serializers.Serializer):
    audience = serializers.IntegerField(min_value=1, max_value=2**62)
    kind = serializers.ChoiceField(choices=Announcement.Kind.choices)
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=20000)
    send_at = AwareDateTimeField(required=False, allow_null=True, help_text="Absent, null or past: now.")


class ReleaseAnnouncementListView(VisibleListView):
    queryset = Announcement.objects.none()
    serializer_class = AnnouncementSerializer

    def visible(self) -> QuerySet[Announcement]:
        release = access_release(self.request.user, self.kwargs["pk"])
        return release.announcements.order_by("-send_at", "-id")

    @extend_schema(responses={200: AnnouncementSerializer(many=True), **errors(*LIST)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=AnnouncementWriteSerializer, responses={201: AnnouncementSerializer, **errors(*WRITE)})
    def post(self, request: Request, pk: int) -> Response:
        release = access_release(request.user, pk, manage=True)
        data = _valid(AnnouncementWriteSerializer, request)
        audience = permissions.audiences_for_release(request.user, release).filter(pk=data.pop("audience")).first()
        if audience is None:
            raise Invalid.field("audience", "Unknown audience, or not one of the release's project or a global one.")
        announcement = announcement_create(release=release, actor=request.user, audience=audience, **data)
        return Response(AnnouncementSerializer(announcement).data, status=201)


class AnnouncementDetailView(APIView):
    @extend_schema(responses={200: AnnouncementSerializer, **errors(*READ)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(AnnouncementSerializer(permissions.access_announcement(request.user, pk)).data)
