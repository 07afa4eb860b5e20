"""Writes of a person's own settings."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext
from rest_framework.authtoken.models import Token

from config.domain import Invalid

from ..models import Profile


@transaction.atomic
def profile_update(
    *,
    user: User,
    actor: User,
    language: str | None = None,
    time_zone: str | None = None,
    email: str | None = None,
) -> Profile:
    """A person sets their own language and time zone (empty: the browser's / the server's)
    and e-mail address (empty: none)."""
    if actor.pk != user.pk:
        raise Invalid.field("user", "Only the person themselves can change their profile.", code="not_yours")
    profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
    if email is not None:
        _set_email(user, email)
    if language is not None:
        if language and language not in dict(settings.LANGUAGES):
            raise Invalid.field("language", f"Unknown language {language!r}.", code="unknown_language")
        profile.language = language
    if time_zone is not None:
        if time_zone and time_zone not in zoneinfo.available_timezones():
            raise Invalid.field("time_zone", f"Unknown time zone {time_zone!r}.", code="unknown_time_zone")
        profile.time_zone = time_zone
    profile.save()
    return profile


def _set_email(user: User, email: str) -> None:
    email = email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise Invalid.field("email", gettext("Enter a valid e-mail address."), code="invalid_email") from None
    if len(email) > User._meta.get_field("email").max_length:  # type: ignore[operator]
        raise Invalid.field("email", gettext("The e-mail address is too long."), code="invalid_email")
    if email != user.email:
        user.email = email
        user.save(update_fields=["email"])


@transaction.atomic
def api_token_issue(*, user: User, rotate: bool = False) -> Token:
    """A person's API token (one per person): the existing one, or a new one made; with
    `rotate`, the old one is deleted first, so clients still using it stop working. The API's
    token endpoint and the profile page both come here."""
    if rotate:
        Token.objects.filter(user=user).delete()
    token, _ = Token.objects.get_or_create(user=user)
    return token
