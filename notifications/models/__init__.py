"""The notifications app's models, a module per feature."""

from .profile import Profile, time_zone_choices

__all__ = ["Profile", "time_zone_choices"]
