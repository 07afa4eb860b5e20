"""The in-app inbox: `GET /notifications/` (filter `unread`), `POST /notifications/{id}/read/`,
`POST /notifications/read-all/`."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import User
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import LIST, VisibleListView, errors

from ..channels import said_of
from ..mail import absolute_url
from ..models import Event, Notification, Profile
from ..permissions import access_notification
from ..selectors import inbox_of
from ..services import notification_read, notifications_read_all


class NotificationSerializer(serializers.ModelSerializer):
    event = serializers.ChoiceField(choices=Event.choices, read_only=True)
    text = serializers.SerializerMethodField(help_text="What happened, in the reader's language.")
    url = serializers.SerializerMethodField(help_text="The page it is about.")

    class Meta:
        model = Notification
        fields = ["id", "event", "text", "url", "release", "item", "created_at", "read_at"]
        read_only_fields = fields

    def get_text(self, row: Notification) -> str:
        return said_of(row, self.context.get("time_zone")).headline

    def get_url(self, row: Notification) -> str:
        path = said_of(row).path
        return absolute_url(path) if path else ""


def _flag(request: Request, name: str) -> bool | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise ValidationError({name: ["Either true or false."]})


class NotificationListView(VisibleListView):
    """The signed-in person's inbox, newest first."""

    queryset = Notification.objects.none()
    serializer_class = NotificationSerializer

    def visible(self) -> QuerySet[Notification]:
        return inbox_of(self.request.user, unread=_flag(self.request, "unread"))

    def get_serializer_context(self) -> dict[str, Any]:
        time_zone = Profile.objects.filter(user_id=self.request.user.pk).values_list("time_zone", flat=True).first()
        return {**super().get_serializer_context(), "time_zone": time_zone or None}

    @extend_schema(
        parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="Only unread (true) or read (false).")],
        responses={200: NotificationSerializer(many=True), **errors(*LIST)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class NotificationReadView(APIView):
    @extend_schema(request=None, responses={200: NotificationSerializer, **errors(401, 404)})
    def post(self, request: Request, pk: int) -> Response:
        user = cast(User, request.user)
        row = notification_read(notification=access_notification(user, pk), actor=user)
        return Response(NotificationSerializer(row).data)


class NotificationReadAllView(APIView):
    @extend_schema(
        request=None,
        responses={200: inline_serializer("ReadAll", {"marked": serializers.IntegerField()}), **errors(401)},
    )
    def post(self, request: Request) -> Response:
        return Response({"marked": notifications_read_all(actor=cast(User, request.user))})
