"""The unread count the navigation shows on every page of a signed-in person."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .selectors import unread_count


def inbox(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "inbox_unread": lambda: unread_count(user),  # counted only where a template asks
        # The embedded default writes e-mail to files; staff read them at /mail/.
        "mail_to_files": settings.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend",
    }
