"""The one error type the services raise, and the sentinel for "field not given".

Services raise a DomainError subclass; the API maps `kind` to a status code in one
exception handler (invalid 400, forbidden 403, not_found 404, conflict 409), the browser
views turn it into a message. `failures` lists every unmet condition, not just the first.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import PurePath
from typing import Any, Final

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop


class _Unset:
    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = _Unset()


class DomainError(Exception):
    kind = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str,
        failures: list[dict[str, Any]] | None = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.failures = failures or []
        self.fields = fields or {}

    def __str__(self) -> str:
        if self.failures and [f["message"] for f in self.failures] != [self.message]:
            return f"{self.message} ({'; '.join(f['message'] for f in self.failures)})"
        field_messages = [m for messages in self.fields.values() for m in messages]
        if self.fields and field_messages != [self.message]:
            parts = [f"{k}: {' '.join(v)}" for k, v in self.fields.items()]
            return f"{self.message} ({'; '.join(parts)})"
        return self.message

    @property
    def failure_codes(self) -> list[str]:
        return [f["code"] for f in self.failures]


class Invalid(DomainError):
    """Bad input: the request itself is wrong (400)."""

    kind = "invalid"

    @classmethod
    def field(cls, name: str, message: str, *, code: str = "invalid") -> Invalid:
        return cls(message, code=code, fields={name: [message]})


class Forbidden(DomainError):
    """The actor may see the object but may not do this (403)."""

    kind = "forbidden"


class NotFound(DomainError):
    """The actor may not see the object, or it does not exist (404)."""

    kind = "not_found"


class Conflict(DomainError):
    """A refused state change or a conflicting write (409). It always lists what stands in
    the way: given no failures, the refusal itself is the one unmet condition."""

    kind = "conflict"

    def __init__(self, message: str, *, code: str, failures: list[dict[str, Any]] | None = None, **kw: Any) -> None:
        super().__init__(message, code=code, failures=failures or [failure(code, message)], **kw)


def failure(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **extra}


def clean_text(name: str, value: Any, *, max_length: int, required: bool = False) -> str:
    """A text field as services take it: stripped, within its length; None counts as empty."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid.field(name, _("Must be text."))
    value = value.strip()
    if not storable(value):
        raise Invalid.field(name, _(UNSTORABLE))
    if required and not value:
        raise Invalid.field(name, _("This field is required."), code="required")
    if len(value) > max_length:
        raise Invalid.field(name, _("At most %(n)s characters.") % {"n": max_length}, code="too_long")
    return value


def clean_aware(name: str, value: Any, *, required: bool = False) -> dt.datetime | None:
    """A date-time with a time zone; one without is refused, never guessed."""
    if value is None and not required:
        return None
    if not isinstance(value, dt.datetime) or timezone.is_naive(value):
        raise Invalid.field(name, "A date and time with a time zone (ISO 8601 with offset).", code="naive_datetime")
    return value


def naive_time_text(value: Any) -> bool:
    """Text that reads as a date-time without a time zone (refused rather than guessed)."""
    from django.utils.dateparse import parse_datetime

    if not isinstance(value, str):
        return False
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        return False
    return parsed is not None and timezone.is_naive(parsed)


# A release flag, and an item's condition on one: `database_migration`, `downtime`, ...
FLAG_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
FLAG_HELP = "lowercase letters, digits and underscores, starting with a letter"


def is_flag(value: Any) -> bool:
    return isinstance(value, str) and FLAG_RE.fullmatch(value) is not None


def clean_flags(name: str, flags: Any) -> list[str]:
    if not isinstance(flags, list | tuple) or not all(is_flag(f) for f in flags):
        raise Invalid.field(name, f"A list of flag names ({FLAG_HELP}).")
    return sorted(set(flags))


# Template and data files: the format from the file's name.
FILE_FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


def format_from_name(name: str) -> str | None:
    """'json' or 'yaml' by the file name's suffix (None when it names neither)."""
    return FILE_FORMATS.get(PurePath(name).suffix.lower())


UNSTORABLE = gettext_noop("Contains characters that can't be stored (NUL or unpaired surrogates).")


def storable(value: str) -> bool:
    """Text the database can store: no NUL character, valid UTF-8 (no unpaired surrogates)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
