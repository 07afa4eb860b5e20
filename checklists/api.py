"""REST API for checklist templates: list, read, create, edit (a version in use becomes a
new version), export and import."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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

from config.api import (
    LIST,
    READ,
    JSONParser,
    RoleField,
    StrictBooleanFilter,
    VisibleListView,
    errors,
    nested_errors,
)
from config.domain import Invalid

from . import exchange, selectors, services
from .models import Category, ChecklistTemplate, TemplateItem, TemplateSection

# Serializers validate shape, services meaning: the template serializers parse JSON into the
# exchange format (types, presence, null and blank) and leave every rule about the values to
# services.template_clean, which checks them once for the API, imports and the command line
# and names the field path. The limits on the fields are that service's, shown in the schema.


class _ShapeOnly(serializers.Field):
    def run_validators(self, value: Any) -> None:
        """The field's limits (length, range, pattern) are the service's to check."""


class _Text(_ShapeOnly, serializers.CharField):
    pass


class _Slug(_ShapeOnly, serializers.SlugField):
    pass


class _WholeNumber(_ShapeOnly, serializers.IntegerField):
    pass


class _Category(_ShapeOnly, serializers.ChoiceField):
    def to_internal_value(self, data: Any) -> Any:
        return data  # which categories there are is the service's to check


class _RoleName(_ShapeOnly, RoleField):
    def to_internal_value(self, data: Any) -> Any:
        return data  # a role's name; whether the role exists is the service's to check


_MAX_LENGTH = services.MAX_LENGTH


class TemplateItemSerializer(serializers.ModelSerializer):
    key = _Slug(max_length=_MAX_LENGTH["key"], required=False)
    title = _Text(max_length=_MAX_LENGTH["title"])
    guidance = _Text(max_length=_MAX_LENGTH["guidance"], required=False, allow_blank=True)
    category = _Category(choices=Category.choices)
    approver_role = _RoleName(allow_null=True, required=False)
    required_signoffs = _WholeNumber(min_value=services.SIGNOFFS[0], max_value=services.SIGNOFFS[1], required=False)
    due_offset_days = _WholeNumber(
        min_value=services.DUE_OFFSET_DAYS[0], max_value=services.DUE_OFFSET_DAYS[1], required=False
    )
    condition_flag = _Text(max_length=_MAX_LENGTH["condition_flag"], required=False, allow_blank=True)

    class Meta:
        model = TemplateItem
        fields = [
            "key", "title", "guidance", "category", "required", "approver_role", "required_signoffs",
            "evidence_required", "due_offset_days", "condition_flag",
        ]  # fmt: skip


class TemplateSectionSerializer(serializers.ModelSerializer):
    title = _Text(max_length=_MAX_LENGTH["section_title"])
    items = TemplateItemSerializer(many=True)

    class Meta:
        model = TemplateSection
        fields = ["title", "items"]


class TemplateSerializer(serializers.ModelSerializer):
    slug = _Slug(max_length=_MAX_LENGTH["slug"])
    name = _Text(max_length=_MAX_LENGTH["name"])
    description = _Text(max_length=_MAX_LENGTH["description"], required=False, allow_blank=True)
    language = _Text(max_length=_MAX_LENGTH["language"], required=False)
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
        # Not DRF's unique-together check on (slug, version): the version is the service's to
        # choose (a taken slug is refused on create, becomes a new version on edit and import),
        # and that check would demand both fields in every request.
        validators: list[Any] = []


class TemplateUpdateSerializer(TemplateSerializer):
    slug = _Slug(max_length=_MAX_LENGTH["slug"], required=False)


@contextmanager
def _errors_nested() -> Iterator[None]:
    """The service's messages by field path, nested as the serializer's own errors are."""
    try:
        yield
    except Invalid as exc:
        if not exc.fields:
            raise
        raise serializers.ValidationError(nested_errors(exc.fields)) from None


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
        with _errors_nested():
            template = services.template_create(actor=request.user, data=data.validated_data)
        return _response(template, status.HTTP_201_CREATED)


class TemplateDetailView(APIView):
    @extend_schema(responses={200: TemplateSerializer, **errors(*READ)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(TemplateSerializer(get_object_or_404(_templates(), pk=pk)).data)

    def _update(self, request: Request, pk: int, *, partial: bool) -> Response:
        template = get_object_or_404(ChecklistTemplate, pk=pk)
        data = TemplateUpdateSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        merged = {**selectors.template_export_data(template), **data.validated_data}
        merged.pop("format", None)
        with _errors_nested():
            template = services.template_update(template=template, actor=request.user, data=merged)
        return _response(template)

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
