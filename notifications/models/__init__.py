"""The notifications app's models, a module per feature."""

from .announcements import Announcement, AnnouncementDelivery, Audience, AudienceMember
from .outbox import (
    CHOOSABLE_EVENTS,
    CRITICAL_EVENTS,
    NOT_DIGESTED_EVENTS,
    Event,
    Notification,
    Preference,
    ProjectWebhook,
)
from .profile import Profile, time_zone_choices
from .reports import Report

__all__ = [
    "CHOOSABLE_EVENTS",
    "CRITICAL_EVENTS",
    "NOT_DIGESTED_EVENTS",
    "Announcement",
    "AnnouncementDelivery",
    "Audience",
    "AudienceMember",
    "Event",
    "Notification",
    "Preference",
    "Profile",
    "ProjectWebhook",
    "Report",
    "time_zone_choices",
]
