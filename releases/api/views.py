"""REST API for projects, releases, phases, transitions, freeze windows and the audit trail.

Views parse input, fetch through a permission-checking selector (404 for what the user may
not see), call one service, and serialize. Services decide everything else.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from approvals.services import release_template_upgrade
from config.api import (
    LIST,
    READ,
    WRITE,
    AwareDateTimeFilter,
    VisibleListView,
    errors,
)
from config.domain import Invalid, NotFound
from config.sqlcache import PreparedRows

from .. import permissions, selectors, services
from ..models import AuditEvent, FreezeWindow, Phase, Project, ProjectMembership, Release
from ..permissions import access_freeze_window, access_phase, access_project, access_release
from .serializers import (
    AuditEventSerializer,
    FreezeWindowSerializer,
    FreezeWindowUpdateSerializer,
    FreezeWindowWriteSerializer,
    MemberAddSerializer,
    MemberSerializer,
    PhaseCreateSerializer,
    PhaseSerializer,
    PhaseTransitionSerializer,
    ProjectCreateSerializer,
    ProjectSerializer,
    ProjectUpdateSerializer,
    ReleaseCreateSerializer,
    ReleaseSerializer,
    ReleaseTransitionSerializer,
    ReleaseUpdateSerializer,
    TemplateUpgradeSerializer,
    UpgradeResultSerializer,
)

# --- helpers -------------------------------------------------------------------------------


def _valid(serializer_class: type[serializers.Serializer], request: Request, **kwargs: Any) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _release(request: Request, pk: int) -> Release:
    return selectors.with_details([access_release(request.user, pk, queryset=selectors.releases_full)])[0]


def _release_response(request: Request, release: Release, code: int = status.HTTP_200_OK) -> Response:
    return Response(ReleaseSerializer(_release(request, release.pk)).data, status=code)


def _project_field(request: Request, pk: int, field: str = "project") -> Project:
    """A project named in a request body: one the user doesn't see is a bad value (400)."""
    try:
        return access_project(request.user, pk)
    except NotFound:
        raise Invalid.field(field, f"Unknown project {pk}.", code="unknown_project") from None


# --- projects ------------------------------------------------------------------------------


class ProjectListView(VisibleListView):
    queryset = Project.objects.none()
    serializer_class = ProjectSerializer

    def visible(self) -> QuerySet[Project]:
        return selectors.projects_for(self.request.user)

    @extend_schema(responses={200: ProjectSerializer(many=True), **errors(*LIST)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=ProjectCreateSerializer, responses={201: ProjectSerializer, **errors(400, 401, 403)})
    def post(self, request: Request) -> Response:
        project = services.project_create(actor=request.user, **_valid(ProjectCreateSerializer, request))
        return Response(ProjectSerializer(selectors.projects_for(request.user).get(pk=project.pk)).data, status=201)


class ProjectDetailView(APIView):
    def _get(self, request: Request, pk: int) -> Project:
        return access_project(request.user, pk, queryset=selectors.projects_with_role(request.user))

    @extend_schema(responses={200: ProjectSerializer, **errors(*READ)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(ProjectSerializer(self._get(request, pk)).data)

    @extend_schema(request=ProjectUpdateSerializer, responses={200: ProjectSerializer, **errors(400, 401, 403, 404)})
    def patch(self, request: Request, pk: int) -> Response:
        project = self._get(request, pk)
        services.project_update(project=project, actor=request.user, **_valid(ProjectUpdateSerializer, request))
        return Response(ProjectSerializer(self._get(request, pk)).data)


class ProjectMemberListView(VisibleListView):
    queryset = ProjectMembership.objects.none()
    serializer_class = MemberSerializer

    def visible(self) -> QuerySet[ProjectMembership]:
        project = access_project(self.request.user, self.kwargs["pk"])
        return selectors.memberships_of(project)

    @extend_schema(responses={200: MemberSerializer(many=True), **errors(*LIST)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=MemberAddSerializer, responses={201: MemberSerializer, **errors(400, 401, 403, 404, 409)})
    def post(self, request: Request, pk: int) -> Response:
        project = access_project(request.user, pk)
        data = _valid(MemberAddSerializer, request)
        membership = services.project_member_add(project=project, actor=request.user, **data)
        return Response(MemberSerializer(membership).data, status=201)


class ProjectMemberDetailView(APIView):
    @extend_schema(responses={204: None, **errors(401, 403, 404, 409)})
    def delete(self, request: Request, pk: int, user_id: int) -> Response:
        project = access_project(request.user, pk)
        user = get_object_or_404(get_user_model(), pk=user_id)
        services.project_member_remove(project=project, actor=request.user, user=user)
        return Response(status=204)


# --- releases ------------------------------------------------------------------------------


class ReleaseFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=Release.State.choices)
    project = django_filters.NumberFilter(field_name="project_id")
    go_live_after = AwareDateTimeFilter(field_name="go_live_at", lookup_expr="gte")
    go_live_before = AwareDateTimeFilter(field_name="go_live_at", lookup_expr="lte")
    search = django_filters.CharFilter(method="filter_search", max_length=200)

    class Meta:
        model = Release
        fields = ["state", "project", "go_live_after", "go_live_before", "search"]

    def filter_search(self, queryset: QuerySet[Release], name: str, value: str) -> QuerySet[Release]:
        return queryset.filter(selectors.release_search_q(value))


class ReleaseListView(VisibleListView):
    queryset = Release.objects.none()
    serializer_class = ReleaseSerializer
    filterset_class = ReleaseFilter

    def visible(self) -> QuerySet[Release]:
        return selectors.release_list(user=self.request.user)

    def visible_prepared(self) -> PreparedRows | None:
        return selectors.release_list_prepared(user=self.request.user)

    def paginate_queryset(self, queryset: QuerySet[Release]) -> list[Release] | None:
        page = super().paginate_queryset(queryset)
        return None if page is None else selectors.with_details(list(page))

    @extend_schema(responses={200: ReleaseSerializer(many=True), **errors(*LIST)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=ReleaseCreateSerializer, responses={201: ReleaseSerializer, **errors(400, 401, 403)})
    def post(self, request: Request) -> Response:
        data = _valid(ReleaseCreateSerializer, request)
        project = _project_field(request, data.pop("project"))
        release = services.release_create(actor=request.user, project=project, **data)
        return _release_response(request, release, status.HTTP_201_CREATED)


class ReleaseDetailView(APIView):
    @extend_schema(responses={200: ReleaseSerializer, **errors(*READ)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(ReleaseSerializer(_release(request, pk)).data)

    @extend_schema(request=ReleaseUpdateSerializer, responses={200: ReleaseSerializer, **errors(*WRITE)})
    def patch(self, request: Request, pk: int) -> Response:
        release = _release(request, pk)
        data = _valid(ReleaseUpdateSerializer, request, partial=True)
        services.release_update(release=release, actor=request.user, **data)
        return _release_response(request, release)


class ReleaseTransitionView(APIView):
    @extend_schema(request=ReleaseTransitionSerializer, responses={200: ReleaseSerializer, **errors(*WRITE)})
    def post(self, request: Request, pk: int) -> Response:
        release = _release(request, pk)
        data = _valid(ReleaseTransitionSerializer, request)
        services.release_transition(release=release, actor=request.user, **data)
        return _release_response(request, release)


class ReleaseTemplateUpgradeView(APIView):
    @extend_schema(request=TemplateUpgradeSerializer, responses={200: UpgradeResultSerializer, **errors(*WRITE)})
    def post(self, request: Request, pk: int) -> Response:
        release = _release(request, pk)
        data = _valid(TemplateUpgradeSerializer, request)
        return Response(release_template_upgrade(release=release, slug=data["template"], actor=request.user))


class ReleaseAuditView(VisibleListView):
    queryset = AuditEvent.objects.none()
    serializer_class = AuditEventSerializer

    def visible(self) -> QuerySet[AuditEvent]:
        release = access_release(self.request.user, self.kwargs["pk"])
        return selectors.audit_for_release(release)

    @extend_schema(responses={200: AuditEventSerializer(many=True), **errors(*LIST)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


# --- phases --------------------------------------------------------------------------------


class ReleasePhaseListView(VisibleListView):
    queryset = Phase.objects.none()
    serializer_class = PhaseSerializer

    def visible(self) -> QuerySet[Phase]:
        release = access_release(self.request.user, self.kwargs["pk"])
        return release.phases.order_by("order", "id")

    @extend_schema(responses={200: PhaseSerializer(many=True), **errors(*LIST)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=PhaseCreateSerializer, responses={201: PhaseSerializer, **errors(*WRITE)})
    def post(self, request: Request, pk: int) -> Response:
        release = access_release(request.user, pk)
        phase = services.phase_create(release=release, actor=request.user, **_valid(PhaseCreateSerializer, request))
        return Response(PhaseSerializer(phase).data, status=201)


class PhaseTransitionView(APIView):
    @extend_schema(request=PhaseTransitionSerializer, responses={200: PhaseSerializer, **errors(*WRITE)})
    def post(self, request: Request, pk: int) -> Response:
        phase = access_phase(request.user, pk)
        data = _valid(PhaseTransitionSerializer, request)
        return Response(PhaseSerializer(services.phase_transition(phase=phase, actor=request.user, **data)).data)


# --- freeze windows ------------------------------------------------------------------------


def _freeze_args(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    if data.get("project") is not None:
        data["project"] = _project_field(request, data["project"])
    if "timezone" in data:
        data["timezone_name"] = data.pop("timezone")
    return data


class FreezeWindowListView(VisibleListView):
    queryset = FreezeWindow.objects.none()
    serializer_class = FreezeWindowSerializer

    def visible(self) -> QuerySet[FreezeWindow]:
        return permissions.freeze_windows_visible_to(self.request.user).order_by("name", "id")

    @extend_schema(responses={200: FreezeWindowSerializer(many=True), **errors(*LIST)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=FreezeWindowWriteSerializer, responses={201: FreezeWindowSerializer, **errors(400, 401, 403)}
    )
    def post(self, request: Request) -> Response:
        data = _freeze_args(request, _valid(FreezeWindowWriteSerializer, request))
        window = services.freeze_window_create(actor=request.user, **data)
        return Response(FreezeWindowSerializer(window).data, status=201)


class FreezeWindowDetailView(APIView):
    def _get(self, request: Request, pk: int) -> FreezeWindow:
        return access_freeze_window(request.user, pk)

    @extend_schema(responses={200: FreezeWindowSerializer, **errors(*READ)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(FreezeWindowSerializer(self._get(request, pk)).data)

    @extend_schema(
        request=FreezeWindowUpdateSerializer, responses={200: FreezeWindowSerializer, **errors(400, 401, 403, 404)}
    )
    def patch(self, request: Request, pk: int) -> Response:
        window = self._get(request, pk)
        data = _freeze_args(request, _valid(FreezeWindowUpdateSerializer, request, partial=True))
        window = services.freeze_window_update(window=window, actor=request.user, **data)
        return Response(FreezeWindowSerializer(window).data)

    @extend_schema(responses={204: None, **errors(401, 403, 404)})
    def delete(self, request: Request, pk: int) -> Response:
        services.freeze_window_delete(window=self._get(request, pk), actor=request.user)
        return Response(status=204)
