"""Celery entry points of the readiness reports: each takes ids, calls one service, and owns
only its retry policy."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from ..services import reports as services


@shared_task(
    name="notifications.report_generate",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=8,
)
def report_generate(report_id: int) -> str:
    report = services.report_generate(report_id=report_id)
    return report.status if report is not None else "not ours"


@shared_task(name="notifications.reports_scheduled", acks_late=True)
def reports_scheduled() -> int:
    """The weekly reports and those before a go-live that are due (idempotent: run it hourly)."""
    return len(services.reports_schedule())


@shared_task(name="notifications.reports_requeue", acks_late=True)
def reports_requeue() -> int:
    """Reports left waiting or whose worker died, queued again (run it every few minutes)."""
    return len(services.reports_requeue())
