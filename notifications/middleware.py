"""Each request in the signed-in person's own language and time zone (their profile)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from .models import Notification
from .permissions import audience_manager


def _personal(user_id: int) -> tuple[str, str, int, bool]:
    """The person's language, time zone, unread inbox count and whether they manage
    audiences (the navigation's "Audiences"), in one query."""
    unread = (
        Notification.objects.filter(user_id=OuterRef("pk"), channel="inbox", read_at__isnull=True)
        .order_by()
        .values("user_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    row = (
        User.objects.filter(pk=user_id)
        .values_list(
            "profile__language", "profile__time_zone", Coalesce(Subquery(unread), 0), audience_manager(OuterRef("pk"))
        )
        .first()
    )
    if row is None:
        return "", "", 0, False
    return row[0] or "", row[1] or "", row[2], bool(row[3])


class PersonalSettingsMiddleware:
    """After LocaleMiddleware (which picked the language from the cookie or the browser) and
    authentication: a profile's language and time zone win; the unread inbox count is read
    with them. One small query per request of a signed-in person; none for the API's token
    requests (authenticated later, by DRF)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language, zone, unread, manages = _personal(user.pk)
            request.inbox_unread = unread  # type: ignore[attr-defined]  # the navigation's count
            request.manages_audiences = manages or user.is_staff or user.is_superuser  # type: ignore[attr-defined]
            # The language switch (its cookie) wins over the profile: a person tries the other
            # language without changing their profile; the profile page sets both.
            if language and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
                translation.activate(language)
                request.LANGUAGE_CODE = language
            if zone:
                try:
                    timezone.activate(zoneinfo.ZoneInfo(zone))
                except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                    timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
