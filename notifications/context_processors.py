"""The unread count the navigation shows on every page of a signed-in person."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .selectors import unread_count


def inbox(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox_unread": lambda: unread_count(user)}  # counted only where a template asks
