"""Writes of a person's calendar feed: the secret key of its URL."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import User
from django.db import transaction

from ..models import Profile


def _new_token() -> str:
    return secrets.token_urlsafe(32)  # 43 characters of [A-Za-z0-9_-]: the URL's only credential


@transaction.atomic
def calendar_token_issue(*, user: User) -> str:
    """The key of the person's calendar feed URL, made when first needed. Two first requests
    at once get the same key: it is set only where none is set yet."""
    profile, _ = Profile.objects.get_or_create(user=user)
    if profile.calendar_token:
        return profile.calendar_token
    Profile.objects.filter(pk=profile.pk, calendar_token__isnull=True).update(calendar_token=_new_token())
    token = Profile.objects.values_list("calendar_token", flat=True).get(pk=profile.pk)
    assert token is not None  # set just now, here or by whoever was first
    return token


@transaction.atomic
def calendar_token_rotate(*, user: User) -> str:
    """A new key for the person's calendar feed URL: the old URL stops answering at once
    (calendars subscribed to it must be given the new one)."""
    profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
    profile.calendar_token = _new_token()
    profile.save(update_fields=["calendar_token", "updated_at"])
    return profile.calendar_token
