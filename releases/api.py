"""REST API for projects, releases, phases, transitions, freeze windows and the audit trail.

Views parse input, fetch through a permission-checking selector (404 for what the user may
not see), call one service, and serialize. Services decide everything else.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from approvals.services import release_template_upgrade
from config.api import (
    LIST,
    READ,
    WRITE,
    AwareDateTimeField,
    AwareDateTimeFilter,
    UserRefField,
    VisibleListView,
    WallTimeField,
    errors,
)
from config.domain import Invalid, NotFound

from . import permissions, selectors, services
from .models import AuditEvent, FreezeWindow, Phase, Project, ProjectMembership, Release
from .permissions import access_freeze_window, access_phase, access_project, access_release

# --- serializers ---------------------------------------------------------------------------


class ProjectSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="Your role in the project: member, admin or null.")

    class Meta:
        model = Project
        fields = ["id", "name", "slug", "description", "role", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=ProjectMembership.Role.choices, allow_null=True))
    def get_role(self, obj: Project) -> str | None:
        return getattr(obj, "my_role", None)


class ProjectCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=100, required=False, allow_blank=True, help_text="From the name if blank.")
    description = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")


class ProjectUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=10000, required=False, allow_blank=True)


class MemberSerializer(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = ProjectMembership
        fields = ["user", "username", "role", "created_at"]
        read_only_fields = fields


class MemberAddSerializer(serializers.Serializer):
    user = UserRefField()
    role = serializers.ChoiceField(choices=ProjectMembership.Role.choices, default=ProjectMembership.Role.MEMBER)


class PhaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Phase
        fields = ["id", "release", "name", "order", "production", "state", "started_at", "finished_at"]
        read_only_fields = fields


class PhaseCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    order = serializers.IntegerField(min_value=0, max_value=10000, required=False)
    production = serializers.BooleanField(default=True)


class PhaseTransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Phase.State.choices)


class AppliedTemplateSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="template.id")
    slug = serializers.CharField()
    version = serializers.IntegerField(source="template.version")
    name = serializers.CharField(source="template.name")


class ReleaseSerializer(serializers.ModelSerializer):
    project = serializers.IntegerField(source="project_id")
    project_name = serializers.CharField(source="project.name")
    readiness = serializers.IntegerField(help_text="Required items done and signed, in percent (0–100).")
    required_total = serializers.IntegerField()
    required_ready = serializers.IntegerField()
    managers = serializers.SerializerMethodField()
    stakeholders = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    phases = PhaseSerializer(many=True, read_only=True)
    templates = AppliedTemplateSerializer(source="applied_templates", many=True, read_only=True)

    class Meta:
        model = Release
        fields = [
            "id", "project", "project_name", "name", "version", "description", "state", "readiness",
            "required_total", "required_ready", "go_live_at", "window_end_at", "git_ref", "rollback_plan",
            "flags", "managers", "stakeholders", "stakeholder_emails", "allow_self_signoff", "phases",
            "templates", "state_reason", "state_changed_at", "approved_at", "freeze_override_reason",
            "went_live_at", "completed_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_managers(self, obj: Release) -> list[int]:
        return permissions.manager_ids(obj)


class ReleaseWriteSerializer(serializers.Serializer):
    """Fields a release manager sets (create and update)."""

    name = serializers.CharField(max_length=200)
    version = serializers.CharField(max_length=100, required=False, allow_blank=True)
    description = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    go_live_at = AwareDateTimeField(required=False, allow_null=True)
    window_end_at = AwareDateTimeField(required=False, allow_null=True)
    git_ref = serializers.CharField(max_length=200, required=False, allow_blank=True)
    rollback_plan = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    flags = serializers.ListField(child=serializers.CharField(max_length=50), max_length=50, required=False)
    managers = serializers.ListField(child=UserRefField(), max_length=100, required=False)
    stakeholders = serializers.ListField(child=UserRefField(), max_length=500, required=False)
    stakeholder_emails = serializers.ListField(
        child=serializers.EmailField(max_length=254), max_length=500, required=False
    )
    allow_self_signoff = serializers.BooleanField(required=False)


class ReleaseCreateSerializer(ReleaseWriteSerializer):
    project = serializers.IntegerField(min_value=1, max_value=2**62)
    templates = serializers.ListField(
        child=serializers.CharField(max_length=100),
        max_length=20,
        required=False,
        help_text="Template slugs (their newest version) or ids.",
    )


class ReleaseUpdateSerializer(ReleaseWriteSerializer):
    name = serializers.CharField(max_length=200, required=False)
    templates = serializers.ListField(
        child=serializers.CharField(max_length=100),
        max_length=20,
        required=False,
        help_text="All the release's templates, slugs or ids: those applied (which stay) and those to apply "
        "(their newest version when named by slug). Newer versions of applied ones: template-upgrade.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if isinstance(self.initial_data, dict) and "state" in self.initial_data:
            raise serializers.ValidationError(
                {"state": ["The state changes through POST /api/v1/releases/{id}/transition/, which checks the rules."]}
            )
        return attrs


class ReleaseTransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Release.State.choices)
    reason = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")
    override_freeze = serializers.BooleanField(
        required=False, default=False, help_text="Approve inside a freeze window (needs the override permission)."
    )


class TemplateUpgradeSerializer(serializers.Serializer):
    template = serializers.CharField(max_length=100, help_text="The slug of a template applied to the release.")


UpgradeResultSerializer = inline_serializer(
    name="TemplateUpgradeResult",
    fields={
        "template": serializers.CharField(),
        "from_version": serializers.IntegerField(),
        "to_version": serializers.IntegerField(),
        "added": serializers.ListField(child=serializers.CharField()),
        "updated": serializers.ListField(child=serializers.CharField()),
        "kept": serializers.ListField(child=serializers.CharField()),
        "removed": serializers.ListField(child=serializers.CharField()),
    },
)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.IntegerField(source="actor_id", allow_null=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id", "created_at", "actor", "actor_name", "action", "target_type", "target_id", "target_repr",
            "before", "after",
        ]  # fmt: skip
        read_only_fields = fields


class FreezeWindowSerializer(serializers.ModelSerializer):
    project = serializers.IntegerField(source="project_id", allow_null=True)
    start_time = WallTimeField(allow_null=True)
    end_time = WallTimeField(allow_null=True)

    class Meta:
        model = FreezeWindow
        fields = [
            "id", "name", "project", "starts_at", "ends_at", "weekday", "start_time", "end_time", "timezone",
            "reason", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class FreezeWindowWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    project = serializers.IntegerField(min_value=1, max_value=2**62, required=False, allow_null=True)
    starts_at = AwareDateTimeField(required=False, allow_null=True)
    ends_at = AwareDateTimeField(required=False, allow_null=True)
    weekday = serializers.IntegerField(min_value=0, max_value=6, required=False, allow_null=True)
    start_time = WallTimeField(required=False, allow_null=True)
    end_time = WallTimeField(required=False, allow_null=True)
    timezone = serializers.CharField(max_length=64, required=False, default="UTC")
    reason = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")


class FreezeWindowUpdateSerializer(FreezeWindowWriteSerializer):
    name = serializers.CharField(max_length=200, required=False)
    timezone = serializers.CharField(max_length=64, required=False)
    reason = serializers.CharField(max_length=10000, required=False, allow_blank=True)


# --- helpers -------------------------------------------------------------------------------


def _valid(serializer_class: type[serializers.Serializer], request: Request, **kwargs: Any) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _release(request: Request, pk: int) -> Release:
    return access_release(request.user, pk, queryset=selectors.release_list_full(user=request.user))


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
        return access_project(request.user, pk, queryset=selectors.projects_for(request.user))

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
        return queryset.filter(Q(name__icontains=value) | Q(version__icontains=value) | Q(description__icontains=value))


class ReleaseListView(VisibleListView):
    queryset = Release.objects.none()
    serializer_class = ReleaseSerializer
    filterset_class = ReleaseFilter

    def visible(self) -> QuerySet[Release]:
        return selectors.release_list_full(user=self.request.user)

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
