"""PDF readiness reports of a release: asked for by a person (on demand) or by the schedules
(weekly, and before the go-live), made by a Celery task, kept through Django's storage API."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def report_path(report: Report, filename: str) -> str:
    return f"reports/{report.release_id}/{filename}"


class Report(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Being made")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    class Kind(models.TextChoices):
        ON_DEMAND = "on_demand", _("On request")
        WEEKLY = "weekly", _("Weekly")
        BEFORE_GO_LIVE = "before_go_live", _("Before the go-live")

    release = models.ForeignKey("releases.Release", on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ON_DEMAND)
    # None: asked for by a schedule.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    language = models.CharField(max_length=10, choices=settings.LANGUAGES)
    time_zone = models.CharField(max_length=64, blank=True)
    email_stakeholders = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    # A schedule's report is made once: "weekly:<release>:<ISO week>", "before_go_live:<release>:<go-live>".
    key = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When a worker took it (a lease: a worker killed mid-way leaves it to be taken again).
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    pdf = models.FileField(upload_to=report_path, max_length=300, blank=True)
    size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("report")
        indexes = [models.Index(fields=["release", "-created_at"], name="report_release_time")]
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=~Q(key=""), name="report_schedule_once"),
            models.CheckConstraint(
                condition=~Q(status="done") | ~Q(pdf=""),
                name="report_done_has_file",
            ),
        ]

    def __str__(self) -> str:
        return f"report {self.pk} of release {self.release_id} ({self.status})"
