"""REST API of the signed-in person (`/me/`) and their go-live calendar feed
(`/calendar/<token>.ics`, outside the token authentication: the secret URL is the key)."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpResponse
from django.http.request import split_domain_port
from django.utils.cache import get_conditional_response, set_response_etag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import errors

from ..calendar import CONTENT_TYPE, calendar_feed, feed_url
from ..models import Preference, Profile
from ..permissions import access_calendar
from ..selectors import preferences_of
from ..services import calendar_token_issue, calendar_token_rotate, preferences_update, profile_update


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True, allow_blank=True)
    language = serializers.ChoiceField(
        choices=[("", "the browser's"), *settings.LANGUAGES], read_only=True, help_text="Empty: the browser's."
    )
    time_zone = serializers.CharField(read_only=True, allow_blank=True, help_text="Empty: the server's.")
    calendar_url = serializers.URLField(read_only=True, help_text="The go-live feed's secret URL.")
    preferences = serializers.DictField(
        child=serializers.ChoiceField(choices=Preference.Mode.choices),
        read_only=True,
        help_text="Per event type: immediate, digest or off (critical events are always immediate).",
    )


class MeUpdateSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    language = serializers.ChoiceField(
        required=False, choices=[("", "the browser's"), *settings.LANGUAGES], help_text="Empty: the browser's."
    )
    time_zone = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="An IANA time zone name; empty: the server's."
    )
    preferences = serializers.DictField(
        child=serializers.CharField(max_length=20),
        required=False,
        help_text="Per event type: immediate, digest or off; the events named are changed, the rest kept.",
    )


class CalendarUrlSerializer(serializers.Serializer):
    calendar_url = serializers.URLField(read_only=True, help_text="The go-live feed's new secret URL.")


def _me(request: Request) -> dict[str, Any]:
    user = cast(User, request.user)
    profile = Profile.objects.filter(user=user).first()
    token = calendar_token_issue(user=user) if profile is None or not profile.calendar_token else profile.calendar_token
    return {
        "id": user.pk,
        "username": user.get_username(),
        "email": user.email,
        "language": profile.language if profile else "",
        "time_zone": profile.time_zone if profile else "",
        "calendar_url": feed_url(request, token),
        "preferences": preferences_of(user),
    }


class MeView(APIView):
    """The signed-in person: who they are, their language, time zone and calendar URL."""

    @extend_schema(responses={200: MeSerializer, **errors(401)}, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        return Response(_me(request))

    @extend_schema(
        request=MeUpdateSerializer, responses={200: MeSerializer, **errors(400, 401)}, operation_id="me_update"
    )
    def patch(self, request: Request) -> Response:
        data = MeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = cast(User, request.user)
        changes = dict(data.validated_data)
        preferences = changes.pop("preferences", None)
        with transaction.atomic():
            if changes:
                profile_update(user=user, actor=user, **changes)
            if preferences is not None:
                preferences_update(user=user, actor=user, preferences=preferences)
        return Response(_me(request))


class MeCalendarTokenView(APIView):
    """A new secret calendar URL; the old one stops answering at once."""

    @extend_schema(
        request=None,
        responses={200: CalendarUrlSerializer, **errors(401)},
        operation_id="me_calendar_token_rotate",
    )
    def post(self, request: Request) -> Response:
        token = calendar_token_rotate(user=cast(User, request.user))
        return Response({"calendar_url": feed_url(request, token)})


class _ErrorsAsJSON(BaseContentNegotiation):
    """The feed's errors are JSON whatever a calendar application asks for (its Accept names
    text/calendar, which only the feed itself is)."""

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


class CalendarFeedView(APIView):
    """The go-live calendar of the person whose secret key is in the URL: one event per
    release they may see that has a go-live (iCalendar). Subscribe to it from a calendar
    application; an unknown or rotated key is a 404. Calendars poll it: it carries an ETag,
    and a poll that names the current one gets a 304 with no body."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _ErrorsAsJSON

    @extend_schema(
        auth=[],
        operation_id="calendar_feed",
        responses={
            (200, "text/calendar"): OpenApiResponse(OpenApiTypes.STR, description="The feed (RFC 5545)."),
            304: OpenApiResponse(description="Not modified: If-None-Match names the feed's current ETag."),
            **errors(404),
        },
    )
    def get(self, request: Request, token: str) -> HttpResponse:
        user = access_calendar(token)
        body = calendar_feed(
            user=user, host=split_domain_port(request.get_host())[0], absolute=request.build_absolute_uri
        )
        response = HttpResponse(body, content_type=CONTENT_TYPE)
        response["Content-Disposition"] = 'inline; filename="shipcheck-go-lives.ics"'
        response["Cache-Control"] = "private, no-cache"
        response["X-Robots-Tag"] = "noindex"
        set_response_etag(response)
        return get_conditional_response(request._request, etag=response["ETag"], response=response) or response
