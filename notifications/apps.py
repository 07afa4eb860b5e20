from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from releases.audit import AUDIT_LISTENERS

        from .services.audiences import unsubscribe_by_link
        from .services.digests import digest_unsubscribe
        from .services.outbox import outbox_on_audit
        from .unsubscribe import UNSUBSCRIBE_HANDLERS

        if outbox_on_audit not in AUDIT_LISTENERS:
            AUDIT_LISTENERS.append(outbox_on_audit)
        UNSUBSCRIBE_HANDLERS["digest"] = digest_unsubscribe
        UNSUBSCRIBE_HANDLERS["audience"] = unsubscribe_by_link
