"""REST framework glue shared by every app's api.py: the one exception handler, pagination,
fields, the token endpoint, error-response documentation, and the health endpoints."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import django_filters
from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import page_not_found
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from config.domain import DomainError, naive_time_text, storable
from config.drf import JSONParser, Pagination
from config.sqlcache import PreparedRows
from notifications.services import api_token_issue

__all__ = ["JSONParser", "Pagination"]

STATUS_BY_KIND = {
    "invalid": status.HTTP_400_BAD_REQUEST,
    "forbidden": status.HTTP_403_FORBIDDEN,
    "not_found": status.HTTP_404_NOT_FOUND,
    "conflict": status.HTTP_409_CONFLICT,
}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DomainError → 400/403/404/409 with the codes of API.md; the rest as DRF does it."""
    if isinstance(exc, DomainError):
        code = STATUS_BY_KIND[exc.kind]
        if exc.kind == "invalid" and exc.fields:
            return Response(exc.fields, status=code)
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
        if exc.kind == "conflict" or exc.failures:
            body["failures"] = exc.failures
        return Response(body, status=code)
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024
        body = {"detail": f"The request body is too large (at most {limit:.1f} MB).", "code": "too_large"}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404 | DjangoPermissionDenied):
        exc = exceptions.NotFound() if isinstance(exc, Http404) else exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    data = response.data if response is not None else None
    if isinstance(exc, exceptions.APIException) and isinstance(data, dict) and "detail" in data and "code" not in data:
        data["code"] = getattr(exc.detail, "code", exc.default_code)
    return response


_PATH_STEP = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def nested_errors(fields: dict[str, list[str]]) -> dict[str | int, Any]:
    """A service's messages by field path (`sections[0].items[2].category`), nested the way DRF
    nests a nested serializer's: {"sections": {0: {"items": {2: {"category": [...]}}}}}. For an
    endpoint whose other 400s come from such a serializer. Messages about a list or object
    that also has messages inside go under its `non_field_errors`, as DRF puts them."""
    tree: dict[str | int, Any] = {}
    for path, messages in fields.items():
        steps: list[str | int] = [int(index) if index else name for index, name in _PATH_STEP.findall(path)]
        node = tree
        for step in steps[:-1]:
            child = node.setdefault(step, {})
            if isinstance(child, list):
                child = node[step] = {"non_field_errors": child}
            node = child
        leaf = node.get(steps[-1])
        if isinstance(leaf, dict):
            leaf.setdefault("non_field_errors", []).extend(messages)
        else:
            node.setdefault(steps[-1], []).extend(messages)
    return tree


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an offset; a time without a time zone is refused, not guessed."""

    default_error_messages = {"naive": "Give the time with a time zone offset (e.g. 2026-12-01T09:00:00+01:00)."}

    def to_internal_value(self, value: Any) -> dt.datetime:
        if naive_time_text(value):
            self.fail("naive")
        result = super().to_internal_value(value)
        if isinstance(result, dt.datetime) and not (dt.datetime(1900, 1, 1, tzinfo=dt.UTC) <= result):
            raise serializers.ValidationError("Dates before 1900 are not accepted.")
        return result


class _UTCIsoDateTimeField(IsoDateTimeField):
    default_error_messages = {"naive": AwareDateTimeField.default_error_messages["naive"]}

    def to_python(self, value: Any) -> dt.datetime | None:
        if naive_time_text(value):
            raise DjangoValidationError(self.error_messages["naive"], code="naive")
        result = super().to_python(value)
        if result is None:
            return None
        try:
            # PostgreSQL refuses offsets beyond ±15:59 that Python accepts; UTC is always fine.
            return result.astimezone(dt.UTC)
        except OverflowError:
            raise DjangoValidationError(self.error_messages["invalid"], code="invalid") from None


class AwareDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time with an offset in a query (`?go_live_after=`), compared in UTC; a time
    without an offset or out of range is a 400."""

    field_class = _UTCIsoDateTimeField


class _StrictBooleanField(forms.NullBooleanField):
    widget = forms.TextInput

    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]  # the stub gives it BooleanField's bool
        text = str(value).strip().lower() if value is not None else ""
        if text == "":
            return None
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise DjangoValidationError("Either true or false.", code="invalid")

    def validate(self, value: Any) -> None:
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    """`?flag=true|false` (or 1|0); anything else is a 400 rather than silently no filter."""

    field_class = _StrictBooleanField


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
        "example": "18:00:00",
        "description": "A time of day (HH:MM[:SS]) in the window's time zone, without an offset.",
    }
)
class WallTimeField(serializers.TimeField):
    """A time of day without an offset: the time zone is given separately (a freeze window's)."""

    default_error_messages = {"offset": "Give the time of day without an offset; the time zone is set separately."}

    def to_internal_value(self, value: Any) -> dt.time:
        result = super().to_internal_value(value)
        if result.tzinfo is not None:
            self.fail("offset")
        return result


class UserRefField(serializers.PrimaryKeyRelatedField):
    """A user by id; an unknown id is a field error, like any bad value."""

    def __init__(self, **kwargs: Any) -> None:
        from django.contrib.auth import get_user_model

        kwargs.setdefault("queryset", get_user_model().objects.filter(is_active=True))
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class RoleField(serializers.SlugRelatedField):
    """An approver role (a group) by its name."""

    default_error_messages = {"does_not_exist": "Unknown approver role {value!r}."}

    def __init__(self, **kwargs: Any) -> None:
        from django.contrib.auth.models import Group

        kwargs.setdefault("queryset", Group.objects.all())
        kwargs.setdefault("slug_field", "name")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and not storable(data):  # the lookup itself would fail in the database
            self.fail("invalid")
        return super().to_internal_value(data)


# --- documented error responses ------------------------------------------------------------

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "detail": serializers.CharField(),
        "code": serializers.CharField(),
    },
)
ConflictSerializer = inline_serializer(
    name="Conflict",
    fields={
        "detail": serializers.CharField(),
        "code": serializers.CharField(),
        "failures": serializers.ListField(
            child=serializers.DictField(),
            min_length=1,
            help_text="Every unmet condition, each with a `code` and a `message`.",
        ),
    },
)
FieldErrorsSerializer = inline_serializer(
    name="FieldErrors",
    fields={"field": serializers.ListField(child=serializers.CharField(), required=False)},
)


class VisibleListView(generics.ListAPIView):
    """A paginated list of what the requesting user may see. A subclass names its model by
    `queryset = Model.objects.none()` (all the schema generator gets) and returns the
    permission-filtered rows from `visible()`."""

    pagination_class = Pagination

    def visible(self) -> QuerySet[Any]:
        raise NotImplementedError

    def visible_prepared(self) -> PreparedRows | None:
        """The same rows as `visible()` unfiltered, read by compiled queries (config.sqlcache),
        for a JSON list whose request names none of its filters (the browsable API's filter
        form reads a queryset); None: no such thing."""
        return None

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        filters = getattr(self, "filterset_class", None)
        json = (
            getattr(self.request, "accepted_renderer", None) is not None
            and self.request.accepted_renderer.format == "json"
        )
        if json and (filters is None or not any(name in self.request.query_params for name in filters.base_filters)):
            prepared = self.visible_prepared()
            if prepared is not None:
                return prepared
        return self.visible()

    def filter_queryset(self, queryset: Any) -> Any:
        return queryset if isinstance(queryset, PreparedRows) else super().filter_queryset(queryset)


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The error responses an operation can return, for the schema."""
    table = {
        400: OpenApiResponse(FieldErrorsSerializer, description="Bad input: messages per field, or detail and code."),
        401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
        403: OpenApiResponse(ErrorSerializer, description="Visible, but this user may not do this."),
        404: OpenApiResponse(ErrorSerializer, description="Not found, or not visible to this user."),
        409: OpenApiResponse(ConflictSerializer, description="Refused state change or conflicting write."),
    }
    return {code: table[code] for code in codes}


READ = (401, 404)
LIST = (400, 401, 404)  # 400: a filter or page that isn't one
WRITE = (400, 401, 403, 404, 409)


def document_unsupported_media_type(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: an operation that takes a body answers 415 to a
    body of a type it does not parse (DRF does this before the view runs)."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation["responses"].setdefault(
                    "415",
                    {
                        "description": "The body is not of a media type this operation takes.",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
    return result


# --- authentication token ------------------------------------------------------------------


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    rotate = serializers.BooleanField(required=False, default=False)


class TokenView(APIView):
    """Get your API token with your username and password; `rotate: true` replaces it."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes: list[type] = []

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: inline_serializer("Token", {"token": serializers.CharField()}), **errors(400)},
        auth=[],
        operation_id="auth_token_create",
    )
    def post(self, request: Request) -> Response:
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request, username=data.validated_data["username"], password=data.validated_data["password"]
        )
        if user is None or not user.is_active:
            raise exceptions.ValidationError({"non_field_errors": ["Wrong username or password."]})
        token = api_token_issue(user=user, rotate=data.validated_data["rotate"])
        return Response({"token": token.key})


# --- the API's front page ----------------------------------------------------------------------


class ApiRootView(APIView):
    """Where to start: the collections, the schema and the docs."""

    @extend_schema(
        responses={
            200: inline_serializer("ApiRoot", {"links": serializers.DictField(child=serializers.URLField())}),
            **errors(401),
        },
        operation_id="api_root",
    )
    def get(self, request: Request) -> Response:
        from django.urls import reverse

        names = {
            "projects": "api-projects",
            "releases": "api-releases",
            "templates": "api-templates",
            "freeze_windows": "api-freeze-windows",
            "delegations": "api-delegations",
            "me": "api-me",
            "token": "api-token",
            "schema": "api-schema",
            "docs": "api-docs",
        }
        return Response({"links": {key: request.build_absolute_uri(reverse(name)) for key, name in names.items()}})


# --- health --------------------------------------------------------------------------------


HealthSerializer = inline_serializer(
    name="Health",
    fields={
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "problems": serializers.DictField(
            child=serializers.CharField(),
            required=False,
            help_text="What is not ready, by name: `database`, `redis`, `workers`.",
        ),
    },
)


class _HealthView(APIView):
    """At the site root, for load balancers and orchestrators: no credentials, JSON only."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]


class HealthzView(_HealthView):
    @extend_schema(operation_id="healthz", tags=["health"], auth=[], responses={200: HealthSerializer})
    def get(self, request: Request) -> Response:
        """The process is alive."""
        return Response({"status": "ok"})


class ReadyzView(_HealthView):
    @extend_schema(
        operation_id="readyz",
        tags=["health"],
        auth=[],
        responses={
            200: HealthSerializer,
            503: OpenApiResponse(HealthSerializer, description="Not ready; `problems` names what is missing."),
        },
    )
    def get(self, request: Request) -> Response:
        """The database and Redis answer (and a Celery worker, when a broker is configured)."""
        problems: dict[str, str] = {}
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as exc:
            problems["database"] = f"unreachable: {exc.__class__.__name__}"
        if settings.REDIS_URL:
            try:
                import redis

                redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
            except Exception as exc:
                problems["redis"] = f"unreachable: {exc.__class__.__name__}"
            else:
                from config.celery import app

                try:
                    # The workers consuming from this Redis (the broker is REDIS_URL when it is set).
                    with app.connection_for_write(settings.REDIS_URL) as broker:
                        replies = app.control.ping(timeout=1.0, connection=broker)
                except Exception:
                    replies = []
                if not replies:
                    problems["workers"] = "no Celery worker answered"
        if problems:
            return Response({"status": "unavailable", "problems": problems}, status=503)
        return Response({"status": "ok"})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for a URL no route matches: JSON under /api/ (like every other API error), the
    usual page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return page_not_found(request, exception or Http404())


@csrf_exempt  # it writes nothing; a token client without a CSRF cookie gets the 404, not a CSRF page
def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """The last route under /api/v1/: the API's JSON 404 for a path it doesn't have (also in
    development, where Django would show its debug page instead of the 404 handler). A
    path that only lacks its trailing slash is redirected when read and named when written
    (a redirected POST would lose its body)."""
    if not request.path.endswith("/"):
        try:
            # This catch-all matches the path with a slash too: only a real route counts.
            with_slash = resolve(request.path + "/").func is not api_not_found
        except Resolver404:
            with_slash = False
        if with_slash:
            if request.method in ("GET", "HEAD"):
                query = request.META.get("QUERY_STRING", "")
                return HttpResponsePermanentRedirect(request.path + "/" + (f"?{query}" if query else ""))
            return JsonResponse(
                {"detail": f"Not found. The address ends with a slash: {request.path}/", "code": "not_found"},
                status=404,
            )
    return not_found(request)
