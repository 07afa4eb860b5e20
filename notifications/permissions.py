"""Who reaches what of the notifications app. The calendar feed has no signed-in user: the
secret key in its URL names the person, and the feed shows what that person may see."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from config.domain import NotFound
from releases.permissions import AnyUser, releases_visible_to

from .models import Notification, Report


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


def access_notification(user: User, pk: object) -> Notification:
    """One of the person's own inbox entries; anyone else's is NotFound."""
    found = Notification.objects.filter(pk=pk if isinstance(pk, int) else -1, user_id=user.pk, channel="inbox").first()
    if found is None:
        raise NotFound(_("Not found."), code="not_found")
    return found


def access_report(user: AnyUser | None, pk: Any) -> Report:
    """The report `pk`, if the user may see its release (NotFound otherwise), with its
    release and the requester's name."""
    found = (
        Report.objects.filter(pk=pk, release__in=releases_visible_to(user).values("pk"))
        .select_related("release", "requested_by")
        .first()
    )
    if found is None:
        raise NotFound(_("Not found."), code="not_found")
    return found
