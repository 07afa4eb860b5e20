"""Every write of the notifications app, a module per feature."""

from .profile import api_token_issue, profile_update

__all__ = ["api_token_issue", "profile_update"]
