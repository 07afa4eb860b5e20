"""REST API for checklist templates: list, read, create, edit (a version in use becomes a
new version), export and import."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import LIST, READ, JSONParser, RoleField, StrictBooleanFilter, VisibleListView, errors
from config.domain import Invalid

from . import exchange, selectors, services
from .models import Category, ChecklistTemplate, TemplateItem, TemplateSection


class TemplateItemSerializer(serializers.ModelSerializer):
    key = serializers.SlugField(max_length=100, required=False)
    approver_role = RoleField(allow_null=True, required=False)
    category = serializers.ChoiceField(choices=Category.choices)
    required_signoffs = serializers.IntegerField(min_value=0, max_value=20, required=False)
    due_offset_days = serializers.IntegerField(min_value=-365, max_value=365, required=False)
    condition_flag = serializers.CharField(max_length=50, required=False, allow_blank=True)

    class Meta:
        model = TemplateItem
        fields = [
            "key", "title", "guidance", "category", "required", "approver_role", "required_signoffs",
            "evidence_required", "due_offset_days", "condition_flag",
        ]  # fmt: skip
        extra_kwargs = {"guidance": {"max_length": 10000}}


class TemplateSectionSerializer(serializers.ModelSerializer):
    items = TemplateItemSerializer(many=True)

    class Meta:
        model = TemplateSection
        fields = ["title", "items"]


class TemplateSerializer(serializers.ModelSerializer):
    sections = TemplateSectionSerializer(many=True)
    in_use = serializers.BooleanField(read_only=True, help_text="A release's checklist was made from this version.")
    newest = serializers.BooleanField(read_only=True, help_text="This is the newest version of the slug.")

    class Meta:
        model = ChecklistTemplate
        fields = [
            "id", "slug", "name", "version", "description", "language", "is_builtin", "in_use", "newest",
            "created_at", "sections",
        ]  # fmt: skip
        read_only_fields = ["id", "version", "is_builtin", "in_use", "newest", "created_at"]
        extra_kwargs = {"description": {"max_length": 5000}}
        # Not DRF's unique-together check on (slug, version): the version is the service's to
        # choose (a taken slug is refused on create, becomes a new version on edit and import),
        # and that check would demand both fields in every request.
        validators: list[Any] = []


class TemplateUpdateSerializer(TemplateSerializer):
    slug = serializers.SlugField(max_length=100, required=False)


def _section(section: dict[str, Any]) -> dict[str, Any]:
    # A PATCH validates nested sections partially too: what is missing is left out, and the
    # service names it (a section without a title or items is a field error, not a KeyError).
    out = dict(section)
    if "items" in section:
        out["items"] = [
            {**item, "approver_role": item["approver_role"].name if item.get("approver_role") else None}
            for item in section["items"]
        ]
    return out


def _data(validated: dict[str, Any]) -> dict[str, Any]:
    """Validated serializer data → the exchange format the services take."""
    out = {k: v for k, v in validated.items() if k != "sections"}
    if "sections" in validated:
        out["sections"] = [_section(section) for section in validated["sections"]]
    return out


def _templates() -> QuerySet[ChecklistTemplate]:
    from releases.models import ReleaseTemplate

    newer = ChecklistTemplate.objects.filter(slug=OuterRef("slug"), version__gt=OuterRef("version"))
    return (
        selectors.templates_with_items()
        .annotate(in_use=Exists(ReleaseTemplate.objects.filter(template=OuterRef("pk"))), newest=~Exists(newer))
        .order_by("slug", "-version")
    )


def _response(template: ChecklistTemplate, code: int = status.HTTP_200_OK) -> Response:
    return Response(TemplateSerializer(_templates().get(pk=template.pk)).data, status=code)


class TemplateFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=Category.choices, method="filter_category")
    slug = django_filters.CharFilter(max_length=100)
    newest = StrictBooleanFilter(method="filter_newest")

    class Meta:
        model = ChecklistTemplate
        fields = ["category", "slug", "newest"]

    def filter_category(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Exists(TemplateItem.objects.filter(template=OuterRef("pk"), category=value)))

    def filter_newest(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(newest=value)


class TemplateListView(VisibleListView):
    queryset = ChecklistTemplate.objects.none()
    serializer_class = TemplateSerializer
    filterset_class = TemplateFilter

    def visible(self) -> QuerySet[ChecklistTemplate]:
        return _templates()

    @extend_schema(responses={200: TemplateSerializer(many=True), **errors(*LIST)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=TemplateSerializer, responses={201: TemplateSerializer, **errors(400, 401, 403, 409)})
    def post(self, request: Request) -> Response:
        data = TemplateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        template = services.template_create(actor=request.user, data=_data(data.validated_data))
        return _response(template, status.HTTP_201_CREATED)


class TemplateDetailView(APIView):
    @extend_schema(responses={200: TemplateSerializer, **errors(*READ)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(TemplateSerializer(get_object_or_404(_templates(), pk=pk)).data)

    def _update(self, request: Request, pk: int, *, partial: bool) -> Response:
        template = get_object_or_404(ChecklistTemplate, pk=pk)
        data = TemplateUpdateSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        merged = {**selectors.template_export_data(template), **_data(data.validated_data)}
        merged.pop("format", None)
        return _response(services.template_update(template=template, actor=request.user, data=merged))

    @extend_schema(
        request=TemplateSerializer,
        responses={200: TemplateSerializer, **errors(400, 401, 403, 404, 409)},
        description="Replace the template. A version a release uses is never changed: the change becomes the "
        "next version (its id is in the response).",
    )
    def put(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=False)

    @extend_schema(
        request=TemplateUpdateSerializer,
        responses={200: TemplateSerializer, **errors(400, 401, 403, 404, 409)},
        description="Change part of the template (name, description, language or the whole sections list). "
        "A version a release uses becomes a new version.",
    )
    def patch(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=True)


class TemplateExportView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=list(exchange.FORMATS), default="json")],
        responses={
            (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="The template."),
            (200, "application/yaml"): OpenApiResponse(OpenApiTypes.OBJECT, description="The template as YAML."),
            **errors(400, 401, 404),
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        template = get_object_or_404(ChecklistTemplate, pk=pk)
        fmt = request.query_params.get("format", "json")
        if fmt not in exchange.FORMATS:
            raise Invalid.field("format", "Either json or yaml.")
        content_type = "application/yaml" if fmt == "yaml" else "application/json"
        response = HttpResponse(
            exchange.dump(selectors.template_export_data(template), fmt), content_type=f"{content_type}; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{template.slug}-v{template.version}.{fmt}"'
        return response


class TemplateImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A JSON or YAML file in the export format.")


class TemplateImportView(APIView):
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        request={"application/json": TemplateSerializer, "multipart/form-data": TemplateImportSerializer},
        responses={201: TemplateSerializer, **errors(400, 401, 403, 409)},
        description="Import a template (the export format, as a JSON body or an uploaded JSON/YAML file). "
        "An existing slug gets a new version.",
    )
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file") if hasattr(request, "FILES") else None
        if upload is not None:
            data = exchange.read(upload, name=upload.name or "file")
        else:
            data = request.data
            if not isinstance(data, dict) or not data or request.content_type.startswith("multipart/"):
                raise Invalid.field("file", "Send the template as a JSON body or upload it as `file`.")
            exchange.refuse_unstorable(data)
        template = services.template_import(actor=request.user, data=data)
        return _response(template, status.HTTP_201_CREATED)
