"""Delivery channels: each turns an outbox row into a message and sends it, raising
TransportError (permanent or not) when it can't."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import translation

from .mail import TransportError, absolute_url, build_email, smtp_failure
from .messages import Said, say
from .models import Event, Notification, Profile
from .unsubscribe import unsubscribe_url


class Channel(Protocol):
    def send(self, notification: Notification) -> None: ...


def _time_zone(notification: Notification) -> str | None:
    if notification.user_id is None:
        return None
    return Profile.objects.filter(user_id=notification.user_id).values_list("time_zone", flat=True).first() or None


def said_of(notification: Notification, time_zone: str | None = None) -> Said:
    return say(notification.event, notification.context, actor_name=notification.actor_name, time_zone=time_zone)


def _report_pdf(notification: Notification) -> list[tuple[str, bytes, str]]:
    from .models import Report
    from .services.reports import report_download_name

    report = Report.objects.filter(pk=notification.context.get("report_id"), status=Report.Status.DONE).first()
    if report is None or not report.pdf:
        raise TransportError("the report is gone", permanent=True)
    with report.pdf.open("rb") as pdf:
        return [(report_download_name(report), pdf.read(), "application/pdf")]


# Attachments some events carry (the readiness report's PDF): event -> loader(notification).
ATTACHMENTS: dict[str, Any] = {Event.REPORT_READY: _report_pdf}


def email_of(notification: Notification) -> EmailMultiAlternatives:
    """The e-mail a row sends, in its recipient's language and time zone."""
    to = [notification.address or (notification.user.email if notification.user else "")]
    language = notification.language or settings.LANGUAGE_CODE
    time_zone = _time_zone(notification)
    with translation.override(language):
        said = said_of(notification, time_zone)
        if notification.event == Event.DIGEST:
            entries = [said_of(row, time_zone) for row in notification.digested.order_by("created_at", "pk")]
            link = unsubscribe_url("digest", str(notification.user_id))
            context = {"said": said, "entries": entries, "unsubscribe_url": link}
            return build_email(template="digest", context=context, to=to, language=language, unsubscribe_url=link)
    loader = ATTACHMENTS.get(notification.event)
    return build_email(
        template="notification",
        context={"said": said},
        to=to,
        language=language,
        release_id=notification.release_id,
        attachments=loader(notification) if loader else (),
    )


class EmailChannel:
    def send(self, notification: Notification) -> None:
        message = email_of(notification)
        if not message.to or not message.to[0]:
            raise TransportError("the recipient has no e-mail address", permanent=True)
        try:
            message.send()
        except Exception as exc:
            raise smtp_failure(exc) from exc


def slack_escape(text: str) -> str:
    """Names as plain text in Slack's markup: `<!channel>` or `<url|label>` in a title must not
    ping anybody or disguise a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class WebhookChannel:
    """A Slack-compatible incoming webhook: a JSON POST with `text`. A 4xx answer is
    permanent (the hook is gone or the payload refused); a 5xx or a timeout is retried."""

    def send(self, notification: Notification) -> None:
        hook = getattr(notification.release.project, "webhook", None) if notification.release else None
        if hook is None or not hook.active:
            raise TransportError("the project has no active webhook", permanent=True)
        with translation.override(settings.LANGUAGE_CODE):
            said = said_of(notification)
        body = {"text": f"{slack_escape(said.headline)}\n<{absolute_url(said.path)}>", "event": notification.event}
        request = urllib.request.Request(
            hook.url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "User-Agent": "Shipcheck"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
                response.read(1024)
        except urllib.error.HTTPError as exc:
            raise TransportError(f"webhook answered {exc.code}", permanent=400 <= exc.code < 500) from exc
        except (TimeoutError, urllib.error.URLError, OSError) as exc:
            raise TransportError(f"webhook unreachable: {exc}", permanent=False) from exc


CHANNELS: dict[str, Channel] = {
    Notification.Channel.EMAIL: EmailChannel(),
    Notification.Channel.WEBHOOK: WebhookChannel(),
}
