"""How Shipcheck talks to a person: their language and time zone (the UI, and later their
e-mails, reports and calendar use them), and the key of their calendar feed."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones()) if "/" in name]


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Empty: the browser's language."),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, blank=True, help_text=_("Empty: the server's time zone.")
    )
    # The key of the person's calendar feed URL (/api/v1/calendar/<token>.ics): the URL is the
    # only credential a calendar application can send. Made when first needed, rotated on
    # request (notifications.services.calendar); kept in the clear because the profile page
    # and /me/ show the URL again and again.
    calendar_token = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("profile")

    def __str__(self) -> str:
        return f"{self.user} ({self.language or '-'}, {self.time_zone or '-'})"
