"""Each request in the signed-in person's own language and time zone (their profile)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from .models import Profile


class PersonalSettingsMiddleware:
    """After LocaleMiddleware (which picked the language from the cookie or the browser) and
    authentication: a profile's language and time zone win. One small query per request of a
    signed-in person; none for the API's token requests (authenticated later, by DRF)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            row = Profile.objects.filter(user=user).values_list("language", "time_zone").first()
            language, zone = row or ("", "")
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
