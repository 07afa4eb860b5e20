"""Serializers of the releases API: shapes in and out (meaning is the services' business)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from config.api import (
    AwareDateTimeField,
    UserRefField,
    WallTimeField,
)
from config.fastread import FastRead

from ..models import AuditEvent, FreezeWindow, Phase, Project, ProjectMembership, Release

# --- serializers ---------------------------------------------------------------------------


class ProjectSerializer(FastRead, serializers.ModelSerializer):
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


class MemberSerializer(FastRead, serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = ProjectMembership
        fields = ["user", "username", "role", "created_at"]
        read_only_fields = fields


class MemberAddSerializer(serializers.Serializer):
    user = UserRefField()
    role = serializers.ChoiceField(choices=ProjectMembership.Role.choices, default=ProjectMembership.Role.MEMBER)


class PhaseSerializer(FastRead, serializers.ModelSerializer):
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


class AppliedTemplateSerializer(FastRead, serializers.Serializer):
    id = serializers.IntegerField(source="template.id")
    slug = serializers.CharField()
    version = serializers.IntegerField(source="template.version")
    name = serializers.CharField(source="template.name")


class ReleaseSerializer(FastRead, serializers.ModelSerializer):
    project = serializers.IntegerField(source="project_id")
    project_name = serializers.CharField()
    readiness = serializers.IntegerField(help_text="Required items done and signed, in percent (0–100).")
    required_total = serializers.IntegerField()
    required_ready = serializers.IntegerField()
    managers = serializers.SerializerMethodField()
    stakeholders = serializers.SerializerMethodField()
    phases = PhaseSerializer(source="phase_list", many=True, read_only=True)
    templates = AppliedTemplateSerializer(source="template_uses", many=True, read_only=True)

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
    def get_managers(self, obj: Any) -> list[int]:
        return obj.manager_ids  # read through releases.selectors.with_details

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_stakeholders(self, obj: Any) -> list[int]:
        return obj.stakeholder_ids


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


class AuditEventSerializer(FastRead, serializers.ModelSerializer):
    actor = serializers.IntegerField(source="actor_id", allow_null=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id", "created_at", "actor", "actor_name", "action", "target_type", "target_id", "target_repr",
            "before", "after",
        ]  # fmt: skip
        read_only_fields = fields


class FreezeWindowSerializer(FastRead, serializers.ModelSerializer):
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
