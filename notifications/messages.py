"""What a notification says, in the active language: one headline (the inbox line, the
e-mail's subject and title), a few detail lines, a quoted comment or reason, and the page it
links to. E-mail, inbox, webhook and digest all say it through here, so they never disagree."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import Event


@dataclass
class Said:
    headline: str
    lines: list[str] = field(default_factory=list)
    quote: str = ""
    path: str = ""
    link_label: str = ""


def _when(value: str | None, time_zone: str | None) -> str:
    if not value:
        return _("not set")
    moment = dt.datetime.fromisoformat(value).astimezone(ZoneInfo(time_zone or settings.TIME_ZONE))
    return f"{formats.date_format(moment, 'DATETIME_FORMAT')} ({moment.tzname()})"


_HEADLINES = {
    Event.ITEM_ASSIGNED: lambda c: _("%(actor)s assigned “%(item)s” to you") % c,
    Event.ITEM_DUE_SOON: lambda c: _("“%(item)s” is due %(due)s") % c,
    Event.ITEM_OVERDUE: lambda c: _("“%(item)s” is overdue") % c,
    Event.ITEM_AWAITING_SIGNOFF: lambda c: _("“%(item)s” waits for sign-off by %(role)s") % c,
    Event.SIGNOFF_REMINDER: lambda c: _("Reminder: “%(item)s” still waits for sign-off by %(role)s") % c,
    Event.SIGNOFF_APPROVED: lambda c: _("%(actor)s approved “%(item)s”") % c,
    Event.SIGNOFF_REJECTED: lambda c: _("%(actor)s rejected “%(item)s”") % c,
    Event.SIGNOFF_REVOKED: lambda c: _("%(actor)s revoked a sign-off of “%(item)s”") % c,
    Event.SIGNOFF_STALE: lambda c: _("An approval of “%(item)s” has gone stale") % c,
    Event.COMMENT_MENTION: lambda c: _("%(actor)s mentioned you on “%(item)s”") % c,
    Event.RELEASE_APPROVED: lambda c: _("%(title)s is approved for go-live") % c,
    Event.RELEASE_GO_LIVE: lambda c: _("%(title)s goes live %(go_live)s") % c,
    Event.RELEASE_LIVE: lambda c: _("%(title)s is live") % c,
    Event.RELEASE_COMPLETED: lambda c: _("%(title)s is completed") % c,
    Event.RELEASE_ROLLED_BACK: lambda c: _("%(title)s was rolled back") % c,
    Event.RELEASE_CANCELLED: lambda c: _("%(title)s is cancelled") % c,
    Event.REPORT_READY: lambda c: _("Readiness report of %(title)s") % c,
    Event.DIGEST: lambda c: (
        ngettext(
            "Your Shipcheck digest: %(count)s notification",
            "Your Shipcheck digest: %(count)s notifications",
            c["count"],
        )
        % c
    ),
}


def say(event: str, context: dict[str, Any], *, actor_name: str = "", time_zone: str | None = None) -> Said:
    """What `event` with `context` (as the outbox stored it) says, in the active language."""
    title = f"{context.get('release', '')} {context.get('version', '')}".strip()
    values = {
        **context,
        "actor": actor_name or _("Someone"),
        "title": title,
        "go_live": _when(context.get("go_live_at"), time_zone),
        "due": _when(context.get("due_at"), time_zone),
        "role": context.get("role") or _("required"),
        "item": context.get("item", ""),
    }
    said = Said(headline=_HEADLINES[Event(event)](values))
    if context.get("item_id"):
        said.path = reverse("item-detail", args=[context["item_id"]])
        said.link_label = _("Open the item")
        said.lines.append(_("Release: %(title)s (%(project)s)") % {**values, "project": context.get("project", "")})
    elif context.get("release_id"):
        said.path = reverse("release-detail", args=[context["release_id"]])
        said.link_label = _("Open the release")
        said.lines.append(_("Project: %(project)s") % {"project": context.get("project", "")})
    _details(said, Event(event), context, values, time_zone)
    return said


def _details(said: Said, event: Event, context: dict[str, Any], values: dict[str, Any], time_zone: str | None) -> None:
    if event in (Event.ITEM_DUE_SOON, Event.ITEM_OVERDUE):
        said.lines.append(_("Due: %(due)s") % values)
    if event == Event.RELEASE_GO_LIVE and context.get("previous_go_live_at"):
        said.lines.append(_("Before: %(when)s") % {"when": _when(context["previous_go_live_at"], time_zone)})
    if event in (Event.RELEASE_APPROVED, Event.RELEASE_LIVE) or (
        event == Event.RELEASE_GO_LIVE and context.get("go_live_at")
    ):
        said.lines.append(_("Go-live: %(go_live)s") % values)
    if event == Event.REPORT_READY:
        said.lines.append(_("Readiness: %(readiness)s %%") % {"readiness": context.get("readiness", 0)})
        said.lines.append(_("The PDF report is attached."))
    if context.get("on_behalf_of"):
        said.lines.append(_("On behalf of %(name)s") % {"name": context["on_behalf_of"]})
    said.quote = context.get("comment") or context.get("reason") or ""
