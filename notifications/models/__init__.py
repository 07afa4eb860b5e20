"""The notifications app's models, a module per feature."""

from .profile import Profile, time_zone_choices
from .reports import Report

__all__ = ["Profile", "Report", "time_zone_choices"]
