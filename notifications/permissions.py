"""Who reaches what of the notifications app. The calendar feed has no signed-in user: the
secret key in its URL names the person, and the feed shows what that person may see."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from config.domain import NotFound


def access_calendar(token: str) -> User:
    """The person whose calendar feed the key opens: NotFound for a key that is unknown,
    rotated away, or a deactivated person's."""
    user = (
        User.objects.filter(profile__calendar_token=token, is_active=True).select_related("profile").first()
        if token
        else None
    )
    if user is None:
        raise NotFound(_("Not found."), code="not_found")
    return user
