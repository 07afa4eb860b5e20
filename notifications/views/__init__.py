"""Browser pages of the notifications app, a module per feature."""

from .profile import profile, token_issue

__all__ = ["profile", "token_issue"]
