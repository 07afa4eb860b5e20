"""The e-mails the embedded default (`make run`) wrote to files instead of sending: a page for
staff to read them, newest first, as their recipients would. Only while e-mail goes to files."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render

from config.web import AuthedRequest, page

SEPARATOR = b"\n" + b"-" * 79 + b"\n"
SHOWN = 50


def _mail_files() -> list[Path]:
    if settings.EMAIL_BACKEND != "django.core.mail.backends.filebased.EmailBackend":
        raise Http404("E-mail is sent, not written to files.")
    folder = Path(settings.EMAIL_FILE_PATH)
    return sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []


def _messages(limit: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in _mail_files():
        for chunk in reversed(path.read_bytes().split(SEPARATOR)):
            if not chunk.strip() or len(found) >= limit:
                continue
            message = email.message_from_bytes(chunk.lstrip(b"\n"), policy=policy.default)
            assert isinstance(message, EmailMessage)
            text = message.get_body(("plain",))
            html = message.get_body(("html",))
            found.append(
                {
                    "subject": message["Subject"],
                    "to": message["To"],
                    "date": message["Date"],
                    "text": text.get_content() if text else "",
                    "html": html.get_content() if html else "",
                    "attachments": [part.get_filename() for part in message.iter_attachments()],
                }
            )
        if len(found) >= limit:
            break
    return found


@page
def mailbox(request: AuthedRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise Http404("Staff only.")
    context = {"mails": _messages(SHOWN), "folder": settings.EMAIL_FILE_PATH, "shown": SHOWN}
    return render(request, "notifications/mailbox.html", context)
