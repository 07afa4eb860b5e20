from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from .services.audiences import unsubscribe_by_link
        from .unsubscribe import UNSUBSCRIBE_HANDLERS

        UNSUBSCRIBE_HANDLERS["audience"] = unsubscribe_by_link
