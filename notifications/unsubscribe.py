"""One-click unsubscribe links (RFC 8058) for bulk mail: digests and announcements. The link
carries a signed (scope, value) pair, so it works without signing in and can't be forged;
each feature registers what unsubscribing means for its scope."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .mail import absolute_url

_SALT = "shipcheck.unsubscribe"

# scope -> what unsubscribing does with the value (e.g. "audience": "<audience id>:<address>").
UNSUBSCRIBE_HANDLERS: dict[str, Callable[[str], None]] = {}


@functools.lru_cache(maxsize=4)
def _signer(secret: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(key=secret, salt=_SALT)


def unsubscribe_token(scope: str, value: str) -> str:
    """What `signing.dumps([scope, value], salt=_SALT)` gives, by one signer made once (an
    announcement signs a token per address: making the signer each time was most of it)."""
    return _signer(settings.SECRET_KEY).sign_object([scope, value])


def unsubscribe_read(token: str) -> tuple[str, str] | None:
    """The (scope, value) of a genuine token whose scope is known, else None."""
    try:
        scope, value = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if scope not in UNSUBSCRIBE_HANDLERS or not isinstance(value, str):
        return None
    return scope, value


def unsubscribe_url(scope: str, value: str) -> str:
    return absolute_url(reverse("unsubscribe", args=[unsubscribe_token(scope, value)]))
