"""The unread count the navigation shows on every page of a signed-in person."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .selectors import unread_count


def _unread(request: HttpRequest, user: Any) -> int:
    known = getattr(request, "inbox_unread", None)
    return unread_count(user) if known is None else known


def inbox(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        # Read with the profile by PersonalSettingsMiddleware; counted here only without it.
        "inbox_unread": lambda: _unread(request, user),
        # The embedded default writes e-mail to files; staff read them at /mail/.
        "mail_to_files": settings.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend",
    }
