"""Every write of the notifications app, a module per feature."""

from .calendar import calendar_token_issue, calendar_token_rotate
from .inbox import notification_read, notifications_read_all, preferences_update
from .profile import api_token_issue, profile_update

__all__ = [
    "api_token_issue",
    "calendar_token_issue",
    "calendar_token_rotate",
    "notification_read",
    "notifications_read_all",
    "preferences_update",
    "profile_update",
]
