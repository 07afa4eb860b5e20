"""Every write of the notifications app, a module per feature."""

from .profile import api_token_issue, profile_update
from .reports import report_generate, report_request, reports_requeue, reports_schedule

__all__ = ["api_token_issue", "profile_update", "report_generate", "report_request", "reports_requeue",
           "reports_schedule"]  # fmt: skip
