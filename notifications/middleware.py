"""Each request in the signed-in person's own language and time zone (their profile)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from .models import Profile
from .permissions import audience_manager


class PersonalSettingsMiddleware:
    """After LocaleMiddleware (which picked the language from the cookie or the browser) and
    authentication: a profile's language and time zone win. One small query per request of a
    signed-in person; none for the API's token requests (authenticated later, by DRF)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            profile = Profile.objects.filter(user=OuterRef("pk"))
            row = (
                get_user_model()
                .objects.filter(pk=user.pk)
                .annotate(
                    profile_language=Subquery(profile.values("language")[:1]),
                    profile_zone=Subquery(profile.values("time_zone")[:1]),
                    audience_manager=audience_manager(OuterRef("pk")),
                )
                .values_list("profile_language", "profile_zone", "audience_manager")
                .first()
            )
            language, zone, manages = row or ("", "", False)
            language, zone = language or "", zone or ""
            # The navigation's "Audiences" (notifications.templatetags.audiences), read with the profile.
            request.manages_audiences = bool(manages or user.is_staff or user.is_superuser)  # type: ignore[attr-defined]
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
