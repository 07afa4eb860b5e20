"""The notifications app's models, a module per feature."""

from .announcements import Announcement, AnnouncementDelivery, Audience, AudienceMember
from .profile import Profile, time_zone_choices

__all__ = ["Announcement", "AnnouncementDelivery", "Audience", "AudienceMember", "Profile", "time_zone_choices"]
