"""A person's go-live calendar (iCalendar, RFC 5545): one event per release they may see
that has a go-live, for any calendar application to subscribe to.

- UID: the release's id and the site's host; it never changes, so a moved go-live updates
  the event instead of adding another.
- SEQUENCE: how many times the go-live (or window end) was set or moved, plus one when the
  release is cancelled, so calendars take the newer version (selectors.calendar_releases).
- STATUS: CANCELLED for a cancelled release; TENTATIVE before approval; CONFIRMED after.
- DTSTART: the go-live; DTEND: the window's end, or an hour later when the release has none.
- Times in UTC: no time zone definitions needed, each calendar shows them in its own zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import icalendar
from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from releases.models import Release

from .models import Profile
from .selectors import calendar_releases

# A release without a window end is shown as an hour long.
DEFAULT_DURATION = dt.timedelta(hours=1)
CONTENT_TYPE = "text/calendar; charset=utf-8"

_STATUS: dict[str, str] = {
    Release.State.DRAFT: "TENTATIVE",
    Release.State.IN_PROGRESS: "TENTATIVE",
    Release.State.CANCELLED: "CANCELLED",
}


def feed_url(request: HttpRequest, token: str) -> str:
    """The absolute, secret URL of the feed the key opens."""
    return request.build_absolute_uri(reverse("api-calendar", kwargs={"token": token}))


def calendar_feed(*, user: User, host: str, absolute: Callable[[str], str]) -> bytes:
    """The feed of `user` as bytes. `host` makes the UIDs unique to this site; `absolute`
    turns a path into an absolute URL (the release pages the events link to)."""
    profile = getattr(user, "profile", None)
    language = (profile.language if isinstance(profile, Profile) else "") or settings.LANGUAGE_CODE
    with translation.override(language):
        calendar = icalendar.Calendar()
        calendar.add("prodid", "-//Shipcheck//Go-lives//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("x-wr-calname", _("Shipcheck go-lives"))
        # How often a subscribed calendar should fetch the feed again (RFC 7986, and Outlook's).
        calendar.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", "PT1H")
        for release in calendar_releases(user):
            calendar.add_component(_event(release, host=host, absolute=absolute))
        return calendar.to_ical()


def _default_end(go_live_at: dt.datetime) -> dt.datetime:
    try:
        return go_live_at + DEFAULT_DURATION
    except OverflowError:  # a go-live in the last hour of the year 9999
        return go_live_at


def _event(release: Release, *, host: str, absolute: Callable[[str], str]) -> icalendar.Event:
    assert release.go_live_at is not None  # the selector's filter
    cancelled = release.state == Release.State.CANCELLED
    url = absolute(reverse("release-detail", args=[release.pk]))
    title = f"{release.name} {release.version}".strip()
    event = icalendar.Event()
    event.add("uid", f"release-{release.pk}@{host}")
    event.add("sequence", release.go_live_moves + (1 if cancelled else 0))  # type: ignore[attr-defined]
    event.add("dtstamp", release.updated_at)
    event.add("created", release.created_at)
    event.add("last-modified", release.updated_at)
    event.add("dtstart", release.go_live_at)
    event.add("dtend", release.window_end_at or _default_end(release.go_live_at))
    event.add("summary", _("Go-live: %(release)s (%(project)s)") % {"project": release.project.name, "release": title})
    event.add("status", _STATUS.get(release.state, "CONFIRMED"))
    event.add("url", url)
    event.add(
        "description",
        "\n".join(
            [
                _("Release %(release)s of %(project)s.") % {"release": title, "project": release.project.name},
                _("State: %(state)s. Readiness: %(readiness)s %%.")
                % {"state": release.get_state_display(), "readiness": release.readiness},
                url,
            ]
        ),
    )
    event.add("transp", "TRANSPARENT")  # a go-live does not make the person busy
    return event
