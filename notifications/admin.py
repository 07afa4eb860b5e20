from django.contrib import admin

from .models import Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """Reports as they were asked for and made; failed ones with their error. Read-only: the
    services make them."""

    list_display = ("created_at", "release", "kind", "status", "requested_by", "language", "finished_at")
    list_filter = ("status", "kind")
    list_select_related = ("release", "requested_by")
    fields = ("release", "kind", "status", "requested_by", "language", "time_zone", "email_stakeholders", "key",
              "created_at", "claimed_at", "finished_at", "error", "pdf", "size")  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
