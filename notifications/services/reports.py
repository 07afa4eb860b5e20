"""PDF readiness reports: asked for (by a person, or by the schedules), then made by a Celery
task that claims the row with a conditional update, renders the report template in the
report's language and time zone, stores the PDF through Django's storage API and marks the
row done (or failed, with the error). The task is queued only after the request commits."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from config.domain import Invalid
from releases import permissions
from releases.audit import audit_record
from releases.models import AuditAction, Release

from ..models import Profile, Report
from ..pdf import html_to_pdf
from ..selectors import report_context
from .outbox import outbox_report_ready

log = logging.getLogger(__name__)

# A worker holds a report this long; one killed mid-way leaves it to be taken again after.
LEASE = dt.timedelta(minutes=10)
# A report still waiting this long was probably never queued (the broker was down).
STUCK_AFTER = dt.timedelta(minutes=2)
# The report "the day before the go-live": once per release and go-live, within this much of it.
BEFORE_GO_LIVE = dt.timedelta(hours=48)


def _queue(report_id: int) -> None:
    from ..tasks.reports import report_generate

    # robust: the broker being down must not fail the request that committed; the sweeper
    # (reports_requeue) queues the report later.
    transaction.on_commit(lambda: report_generate.delay(report_id), robust=True)


def _personal(user: User | None) -> tuple[str, str]:
    profile = Profile.objects.filter(user=user).first() if user is not None else None
    language = (profile.language if profile else "") or settings.LANGUAGE_CODE
    return language, (profile.time_zone if profile else "") or settings.TIME_ZONE


@transaction.atomic
def report_request(
    *, release: Release, actor: User, email_stakeholders: bool = False, language: str | None = None
) -> Report:
    """Queue a PDF readiness report of the release. Anyone who sees the release may ask for
    one (for their own download); mailing it to the stakeholders is the managers' call.
    The language is the asker's (their profile's) unless given."""
    permissions.check_release(actor, release)
    if email_stakeholders:
        permissions.require_manager(actor, release)
    own_language, zone = _personal(actor)
    if language and language not in dict(settings.LANGUAGES):
        raise Invalid.field(
            "language", _("Unknown language %(code)s.") % {"code": repr(str(language)[:20])}, code="unknown_language"
        )
    report = Report.objects.create(
        release=release,
        requested_by=actor,
        kind=Report.Kind.ON_DEMAND,
        language=language or own_language,
        time_zone=zone,
        email_stakeholders=email_stakeholders,
    )
    _audit_request(report, actor)
    _queue(report.pk)
    return report


def _audit_request(report: Report, actor: User) -> None:
    """Someone asked for a report (a schedule's reports are not recorded: one a week for every
    followed release would bury the trail). Its details are data (`after`), not text."""
    audit_record(
        action=AuditAction.REPORT_REQUESTED,
        actor=actor,
        target=report,
        release=report.release,
        target_repr="",
        after={"kind": report.kind, "language": report.language, "email_stakeholders": report.email_stakeholders},
    )


def _file_name(release: Release, when: dt.datetime) -> str:
    name = slugify(f"{release.name} {release.version}".strip()) or f"release-{release.pk}"
    return f"{name}-readiness-{when:%Y%m%d-%H%M}.pdf"


def report_html(report: Report, *, pdf: bool = True) -> str:
    """The report's HTML, in its language and time zone (the print page shows the same)."""
    with translation.override(report.language), timezone.override(report.time_zone or settings.TIME_ZONE):
        return render_to_string("notifications/report.html", {**report_context(report.release_id), "pdf": pdf})


def _claim(report_id: int, now: dt.datetime) -> bool:
    """Take the report: waiting, or taken by a worker whose lease ran out. Zero rows: someone
    else has it, or it is finished."""
    waiting = Q(status=Report.Status.PENDING) | Q(status=Report.Status.RUNNING, claimed_at__lt=now - LEASE)
    return bool(
        Report.objects.filter(waiting, pk=report_id).update(status=Report.Status.RUNNING, claimed_at=now, error="")
    )


def report_generate(*, report_id: int) -> Report | None:
    """Make the report's PDF (the Celery task's one call). Running it twice makes it once: the
    row is claimed first. Returns the finished report, or None when it wasn't ours to make."""
    now = timezone.now()
    if not _claim(report_id, now):
        return None
    report = Report.objects.select_related("release").get(pk=report_id)
    try:
        content = html_to_pdf(report_html(report))
        storage = Report._meta.get_field("pdf").storage
        name = storage.save(
            Report._meta.get_field("pdf").generate_filename(report, _file_name(report.release, now)),
            ContentFile(content),
        )
    except OperationalError:
        # The database went away: give the report back, the task retries.
        Report.objects.filter(pk=report_id, status=Report.Status.RUNNING, claimed_at=now).update(
            status=Report.Status.PENDING, claimed_at=None
        )
        raise
    except Exception as exc:
        log.exception("report %s failed", report_id)
        Report.objects.filter(pk=report_id, status=Report.Status.RUNNING, claimed_at=now).update(
            status=Report.Status.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return Report.objects.get(pk=report_id)
    return _finish(report, name=name, size=len(content), claimed_at=now)


def _finish(report: Report, *, name: str, size: int, claimed_at: dt.datetime) -> Report | None:
    storage = Report._meta.get_field("pdf").storage
    with transaction.atomic():
        done = Report.objects.filter(pk=report.pk, status=Report.Status.RUNNING, claimed_at=claimed_at).update(
            status=Report.Status.DONE, pdf=name, size=size, finished_at=timezone.now(), error=""
        )
        if not done:  # our lease ran out and another worker took it: theirs counts
            transaction.on_commit(lambda: storage.delete(name))
            return None
        report.refresh_from_db()
        if report.email_stakeholders:
            outbox_report_ready(report=report)
    return report


# --- the schedules ---------------------------------------------------------------------------


def _scheduled(release: Release, *, kind: str, key: str) -> Report | None:
    """A schedule's report, once per key (a second run, or two at once, make none)."""
    try:
        with transaction.atomic():
            report = Report.objects.create(
                release=release, kind=kind, key=key, requested_by=None, email_stakeholders=True,
                language=settings.LANGUAGE_CODE, time_zone=settings.TIME_ZONE,
            )  # fmt: skip
            _queue(report.pk)
    except IntegrityError:
        return None
    return report


def reports_schedule(*, now: dt.datetime | None = None) -> list[Report]:
    """The scheduled reports due now, mailed to the stakeholders of releases not closed that
    have any: one a week (ISO week) each, and one when the go-live is less than
    BEFORE_GO_LIVE away (once per go-live: a moved go-live gets its own). Idempotent: run it
    as often as you like (hourly, say)."""
    now = now or timezone.now()
    year, week, _day = now.isocalendar()
    followed = Q(stakeholders__isnull=False) | ~Q(stakeholder_emails=[])
    open_releases = Release.objects.exclude(state__in=Release.CLOSED_STATES).filter(followed).distinct()
    wanted: dict[str, tuple[Release, str]] = {}
    for release in open_releases.order_by("pk"):
        wanted[f"weekly:{release.pk}:{year}-W{week:02d}"] = (release, Report.Kind.WEEKLY)
        if release.go_live_at and now < release.go_live_at <= now + BEFORE_GO_LIVE:
            key = f"before_go_live:{release.pk}:{release.go_live_at.astimezone(dt.UTC):%Y%m%dT%H%M%S}"
            wanted[key] = (release, Report.Kind.BEFORE_GO_LIVE)
    made = set(Report.objects.filter(key__in=list(wanted)).values_list("key", flat=True))
    out: list[Report] = []
    for key, (release, kind) in wanted.items():
        if key not in made and (report := _scheduled(release, kind=kind, key=key)):
            out.append(report)
    return out


def reports_requeue(*, now: dt.datetime | None = None) -> list[int]:
    """Queue again the reports left waiting (never queued: the broker was down) or held by a
    worker whose lease ran out (killed mid-way). Claiming keeps a report from being made twice."""
    now = now or timezone.now()
    stuck = Report.objects.filter(
        Q(status=Report.Status.PENDING, created_at__lt=now - STUCK_AFTER)
        | Q(status=Report.Status.RUNNING, claimed_at__lt=now - LEASE)
    )
    ids = list(stuck.values_list("pk", flat=True)[:500])
    for report_id in ids:
        _queue(report_id)
    return ids


def report_download_name(report: Report) -> str:
    return report.pdf.name.rsplit("/", 1)[-1] if report.pdf else f"report-{report.pk}.pdf"


__all__: list[Any] = [
    "report_download_name", "report_generate", "report_html", "report_request", "reports_requeue", "reports_schedule",
]  # fmt: skip
