import pytest

from notifications.models import Notification
from notifications.services.delivery import notification_deliver


@pytest.fixture
def deliver_all():
    """Deliver every pending outbox row here, in this process (what the worker does)."""

    def run():
        for pk in Notification.objects.filter(status="pending").values_list("pk", flat=True):
            notification_deliver(notification_id=pk)

    return run


def emails(user_or_address=None, *, event=None):
    rows = Notification.objects.filter(channel="email")
    if event:
        rows = rows.filter(event=event)
    return rows
