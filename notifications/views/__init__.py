"""Browser pages of the notifications app, a module per feature."""

from .profile import calendar_rotate, profile, token_issue

__all__ = ["calendar_rotate", "profile", "token_issue"]
