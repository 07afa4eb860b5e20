"""Celery entry points of the notifications app, a module per feature; each is imported here
so that Celery's autodiscovery (which imports `notifications.tasks`) registers them."""

from .announcements import announcement_batch_task, announcement_start_task, announcements_sweep_task
from .outbox import digests_send, notification_deliver, notifications_sweep, reminders_send
from .reports import report_generate, reports_requeue, reports_scheduled

__all__ = [
    "announcement_batch_task",
    "announcement_start_task",
    "announcements_sweep_task",
    "digests_send",
    "notification_deliver",
    "notifications_sweep",
    "reminders_send",
    "report_generate",
    "reports_requeue",
    "reports_scheduled",
]
