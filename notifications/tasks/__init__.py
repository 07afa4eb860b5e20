"""Celery entry points of the notifications app, a module per feature; each is imported here
so that Celery's autodiscovery (which imports `notifications.tasks`) registers them."""

from .outbox import digests_send, notification_deliver, notifications_sweep, reminders_send
from .reports import report_generate, reports_requeue, reports_scheduled

__all__ = [
    "digests_send",
    "notification_deliver",
    "notifications_sweep",
    "reminders_send",
    "report_generate",
    "reports_requeue",
    "reports_scheduled",
]
