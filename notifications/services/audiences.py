"""Audiences: lists of end users' addresses, typed or imported from a CSV file. Addresses are
lower-cased and merged; an unsubscribed address stays unsubscribed whatever is imported."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.domain import UNSET, Conflict, Forbidden, Invalid, clean_text
from releases.models import Project

from .. import permissions
from ..models import Announcement, Audience, AudienceMember

CHUNK = 2000
MAX_ADDRESSES = 100_000
MAX_LISTED = 50  # bad addresses or rows named in one refusal or report
IMPORT_MAX_BYTES = 10 * 1024 * 1024


def _valid_address(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return len(value) <= 254


def clean_addresses(name: str, values: Any) -> list[str]:
    """Lower-cased, duplicates merged, order kept; the invalid ones refused, all named."""
    if isinstance(values, str):
        values = values.replace(",", "\n").replace(";", "\n").split()
    if not isinstance(values, list | tuple):
        raise Invalid.field(name, _("A list of e-mail addresses."))
    if len(values) > MAX_ADDRESSES:
        raise Invalid.field(name, _("At most %(n)s addresses.") % {"n": MAX_ADDRESSES})
    seen: dict[str, None] = {}
    bad: list[str] = []
    for value in values:
        text = value.strip().lower() if isinstance(value, str) else ""
        if not text or not _valid_address(text):
            bad.append(str(value)[:100])
        else:
            seen.setdefault(text)
    if bad:
        messages = [_("Not an e-mail address: %(value)s") % {"value": repr(value)} for value in bad[:MAX_LISTED]]
        if len(bad) > MAX_LISTED:
            messages.append(_("… and %(n)s more.") % {"n": len(bad) - MAX_LISTED})
        raise Invalid(messages[0], code="invalid_addresses", fields={name: messages})
    return list(seen)


def _clean_language(language: Any) -> str:
    if language not in dict(settings.LANGUAGES):
        codes = ", ".join(code for code, _name in settings.LANGUAGES)
        raise Invalid.field("language", _("One of: %(codes)s.") % {"codes": codes})
    return str(language)


def _require_manage_of(actor: User, project: Project | None) -> None:
    if not permissions.can_manage_audience_of(actor, project.pk if project else None):
        if project is None:
            raise Forbidden(_("Only staff can manage global audiences."), code="forbidden")
        raise Forbidden(
            _("Only the project's administrators and its releases' managers can manage its audiences."),
            code="forbidden",
        )


def _add(audience: Audience, emails: list[str]) -> int:
    """Adds the addresses not there yet (in chunks; one INSERT each); how many were new."""
    before = audience.members.count()
    for start in range(0, len(emails), CHUNK):
        AudienceMember.objects.bulk_create(
            [AudienceMember(audience=audience, email=email) for email in emails[start : start + CHUNK]],
            ignore_conflicts=True,
        )
    return audience.members.count() - before


def _replace(audience: Audience, emails: list[str]) -> None:
    """The audience's addresses become these; unsubscribed ones are kept (and stay so)."""
    wanted = set(emails)
    present = audience.members.filter(unsubscribed_at__isnull=True).values_list("email", flat=True)
    gone = [email for email in present.iterator(chunk_size=CHUNK) if email not in wanted]
    for start in range(0, len(gone), CHUNK):
        audience.members.filter(email__in=gone[start : start + CHUNK], unsubscribed_at__isnull=True).delete()
    _add(audience, emails)


def audience_create(
    *,
    actor: User,
    name: str,
    project: Project | None = None,
    language: str = "en",
    addresses: Any = (),
) -> Audience:
    _require_manage_of(actor, project)
    name = clean_text("name", name, max_length=200, required=True)
    language = _clean_language(language)
    emails = clean_addresses("addresses", list(addresses))
    with transaction.atomic():
        audience = Audience.objects.create(name=name, project=project, language=language, created_by=actor)
        _add(audience, emails)
    return audience


def audience_update(
    *,
    audience: Audience,
    actor: User,
    name: Any = UNSET,
    project: Any = UNSET,
    language: Any = UNSET,
    addresses: Any = UNSET,
) -> Audience:
    """Changes what is given; `addresses` replaces the list (unsubscribed ones stay out)."""
    _require_manage_of(actor, audience.project)
    if project is not UNSET and project != audience.project:
        _require_manage_of(actor, project)
        if audience.announcements.exclude(release__project=project).exists() and project is not None:
            raise Conflict(_("The audience has announcements of another project's releases."), code="audience_in_use")
        audience.project = project
    if name is not UNSET:
        audience.name = clean_text("name", name, max_length=200, required=True)
    if language is not UNSET:
        audience.language = _clean_language(language)
    emails = None if addresses is UNSET else clean_addresses("addresses", addresses)
    with transaction.atomic():
        audience.save()
        if emails is not None:
            _replace(audience, emails)
    return audience


def audience_delete(*, audience: Audience, actor: User) -> None:
    _require_manage_of(actor, audience.project)
    busy = (Announcement.Status.SCHEDULED, Announcement.Status.SENDING)
    with transaction.atomic():
        if audience.announcements.select_for_update().filter(status__in=busy).exists():
            raise Conflict(
                _("An announcement to this audience is scheduled or being sent; cancel it first."),
                code="audience_in_use",
            )
        audience.delete()


@dataclass
class ImportReport:
    added: int = 0
    merged: int = 0  # already in the audience, or twice in the file
    bad_rows: list[dict[str, Any]] = field(default_factory=list)  # {"line", "value", "message"}

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "merged": self.merged, "bad_rows": self.bad_rows}


def _rows_of(content: bytes) -> list[tuple[int, str]]:
    """(line number, the first cell that looks like an address, else the first cell) of each
    non-empty row; a first row without any address is a header, skipped."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid.field("file", _("The file is not UTF-8 text (save the CSV as UTF-8).")) from None
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    out: list[tuple[int, str]] = []
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        for row in reader:
            cells = [cell.strip() for cell in row if cell.strip()]
            if not cells:
                continue
            if reader.line_num == 1 and not any("@" in c for c in cells):
                continue  # a header row (email, name, ...)
            out.append((reader.line_num, next((c for c in cells if "@" in c), cells[0])))
    except csv.Error as error:
        raise Invalid.field("file", _("Not a CSV file: %(error)s") % {"error": error}) from None
    return out


def audience_import_csv(*, audience: Audience, actor: User, content: bytes) -> ImportReport:
    """Adds the addresses of a CSV file (one a row, in any column); the bad rows are skipped
    and reported by line, duplicates merged. Nothing is imported from a file with no good row."""
    _require_manage_of(actor, audience.project)
    if len(content) > IMPORT_MAX_BYTES:
        raise Invalid.field("file", _("At most %(n)s MB.") % {"n": IMPORT_MAX_BYTES // 1024 // 1024})
    report = ImportReport()
    emails: dict[str, None] = {}
    for line, value in _rows_of(content):
        email = value.lower()
        if not _valid_address(email):
            report.bad_rows.append(
                {
                    "line": line,
                    "value": value[:100],
                    "message": _("Not an e-mail address: %(value)s") % {"value": repr(value[:100])},
                }
            )
        elif email in emails:
            report.merged += 1
        else:
            emails[email] = None
    if not emails:
        message = _("The file has no e-mail address.")
        if report.bad_rows:
            message = _("The file has no valid e-mail address (line %(lines)s).") % {
                "lines": ", ".join(str(row["line"]) for row in report.bad_rows[:MAX_LISTED])
            }
        raise Invalid.field("file", message)
    with transaction.atomic():
        Audience.objects.select_for_update().filter(pk=audience.pk).first()
        report.added = _add(audience, list(emails))
        Audience.objects.filter(pk=audience.pk).update(updated_at=timezone.now())
    report.merged += len(emails) - report.added
    return report


def audience_unsubscribe(*, audience_id: int, email: str) -> bool:
    """The address gets no more announcements to this audience (the link in each one); True
    when it was subscribed. An unknown audience or address is no error: the link may be old."""
    updated = AudienceMember.objects.filter(
        audience_id=audience_id, email=email.strip().lower(), unsubscribed_at__isnull=True
    ).update(unsubscribed_at=timezone.now())
    return bool(updated)


def unsubscribe_by_link(value: str) -> None:
    """The `audience` scope of the unsubscribe links: value "<audience id>:<address>"."""
    audience_id, _sep, email = value.partition(":")
    if audience_id.isdigit() and email:
        audience_unsubscribe(audience_id=int(audience_id), email=email)
