"""How Shipcheck's e-mails are built: three templates (subject, text, HTML) rendered in the
recipient's language, the HTML's CSS inlined, with the headers mail clients and servers
expect of machine mail (Auto-Submitted, a thread per release, one-click unsubscribe for
bulk mail). Sending is the caller's business; `smtp_failure` tells it whether a failure is
worth retrying."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Sequence
from email.utils import make_msgid
from typing import Any

import css_inline
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

_INLINER = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


def absolute_url(path: str) -> str:
    """The address a person reaches `path` at (links in e-mails, feeds, reports)."""
    return settings.SITE_URL + path


def _mail_domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(">") or "shipcheck.localhost"


def release_thread_id(release_id: int) -> str:
    """The Message-ID every e-mail about a release refers to, so mail clients show one thread."""
    return f"<release-{release_id}@{_mail_domain()}>"


def build_email(
    *,
    template: str,
    context: dict[str, Any],
    to: list[str],
    language: str | None,
    release_id: int | None = None,
    unsubscribe_url: str | None = None,
    attachments: Sequence[tuple[str, bytes, str]] = (),
    connection: Any = None,
    from_email: str | None = None,
) -> EmailMultiAlternatives:
    """The message `notifications/email/<template>.{subject.txt,txt,html}` makes of `context`,
    in `language` (None: the site's default)."""
    with translation.override(language or settings.LANGUAGE_CODE):
        context = {"site_url": settings.SITE_URL, "LANGUAGE_CODE": translation.get_language(), **context}
        base = f"notifications/email/{template}"
        subject = " ".join(render_to_string(f"{base}.subject.txt", context).split())
        text = render_to_string(f"{base}.txt", context).strip() + "\n"
        html = _INLINER.inline(render_to_string(f"{base}.html", context))
    headers = {"Auto-Submitted": "auto-generated", "Message-ID": make_msgid(domain=_mail_domain())}
    if release_id is not None:
        thread = release_thread_id(release_id)
        headers |= {"References": thread, "In-Reply-To": thread}
    if unsubscribe_url:
        headers |= {"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers=headers,
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    return message


class TransportError(Exception):
    """A delivery failed; `permanent` says that trying again would not help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def smtp_failure(exc: Exception) -> TransportError:
    """An SMTP or network error as a TransportError: a 5xx reply or refused recipients are
    permanent; a 4xx reply, a refused or lost connection and timeouts are transient."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return TransportError(f"recipients refused: {exc.recipients}", permanent=all(c >= 500 for c in codes))
    if isinstance(exc, smtplib.SMTPResponseException):
        return TransportError(f"{exc.smtp_code} {exc.smtp_error!r}", permanent=exc.smtp_code >= 500)
    if isinstance(exc, smtplib.SMTPException | socket.timeout | OSError):
        return TransportError(f"{type(exc).__name__}: {exc}", permanent=False)
    return TransportError(f"{type(exc).__name__}: {exc}", permanent=True)
