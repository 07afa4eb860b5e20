"""Admin of the outbox (what was told to whom, what failed, and sending a failed one again),
preferences, and the projects' webhooks."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from config.domain import DomainError
from releases.admin import ReadOnlyAdminMixin

from .models import Notification, Preference, Profile, ProjectWebhook
from .services.delivery import notification_retry
from .services.webhooks import project_webhook_set


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "event", "channel", "status", "recipient", "release", "attempts", "sent_at")
    list_filter = ("status", "channel", "event")
    search_fields = ("user__username", "address", "key", "release__name")
    list_select_related = ("user", "release")
    date_hierarchy = "created_at"
    actions = ["send_again"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Send the failed ones again"))
    def send_again(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        failed = list(queryset.filter(status=Notification.Status.FAILED).values_list("pk", flat=True))
        for pk in failed:
            notification_retry(notification_id=pk)
        messages.success(request, _("%(count)s queued again.") % {"count": len(failed)})


@admin.register(Preference)
class PreferenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Each person sets their own (the inbox's preferences page, /me/)."""

    list_display = ("user", "event", "mode")
    list_filter = ("event", "mode")
    search_fields = ("user__username",)


@admin.register(ProjectWebhook)
class ProjectWebhookAdmin(admin.ModelAdmin):
    list_display = ("project", "url", "active", "created_at")
    list_filter = ("active",)

    def save_model(self, request: HttpRequest, obj: ProjectWebhook, form: Any, change: bool) -> None:
        try:
            project_webhook_set(project=obj.project, actor=request.user, url=obj.url, active=obj.active)  # type: ignore[arg-type]
        except DomainError as error:
            messages.error(request, error.message)


@admin.register(Profile)
class ProfileAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "language", "time_zone", "updated_at")
    search_fields = ("user__username",)
    exclude = ("calendar_token",)
