"""PDF readiness reports: asked for through the API, made by the real Celery worker, read
back as text (pdftotext); in the asker's language; seen only by those who see the release."""

import re
import time

import pytest
from django.utils import translation

from notifications.models import Report
from notifications.selectors import report_context
from notifications.services import report_generate, report_request, reports_requeue, reports_schedule
from releases.models import Release
from tests.api_fixtures import bulk_items

from ..factories import in_days
from .conftest import pdf_text


def _wait_done(client, report_id, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/reports/{report_id}/").json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.3)
    raise AssertionError(f"report {report_id} still {body['status']}")


@pytest.mark.django_db(transaction=True)
def test_a_report_made_by_the_worker_holds_the_release_readiness_and_signoff_register(
    celery_worker, api_as, approved_release, manager, qa, tmp_path
):
    client = api_as(manager)
    response = client.post(f"/api/v1/releases/{approved_release.pk}/reports/", {"language": "en"}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending"
    body = _wait_done(client, response.json()["id"])
    assert body["status"] == "done", body["error"]
    assert body["requested_by"] == manager.pk
    assert body["finished_at"]

    pdf = client.get(body["pdf_url"])
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith('attachment; filename="billing-20-readiness-')
    text = pdf_text(b"".join(pdf.streaming_content), tmp_path)
    assert "Readiness report: Billing 2.0" in text
    assert "100 %" in text
    assert "1 of 1 required items done and signed" in text
    assert "Sign-off register" in text
    register = text.split("Sign-off register", 1)[1]
    assert "Regression tests" in register
    assert "qa" in register
    assert "Looks good." in register
    assert "Approved by manager" in text  # the go/no-go record
    assert "Redeploy 1.9 from tag v1.9." in text  # the rollback plan
    pages = re.findall(r"(\d+) ?/ ?(\d+)\n\f", text)  # "page X / Y" at the foot of each page
    assert pages
    assert pages[0][0] == "1"
    assert all(y == str(len(pages)) for _x, y in pages)
    Report.objects.filter(pk=body["id"]).first().pdf.delete(save=False)


@pytest.mark.django_db
@pytest.mark.django_db(transaction=True)
def test_a_stakeholder_gets_the_report_mailed_with_the_pdf_attached(
    celery_worker, smtp_server, api_as, scenario, project, approved_release, manager, tmp_path
):
    from notifications.models import Notification

    from .conftest import wait_for

    watcher = scenario.join(project, scenario.person("stakeholder"))
    scenario.update(approved_release, by=manager, stakeholders=[watcher], stakeholder_emails=["board@example.org"])
    wait_for(lambda: not Notification.objects.filter(channel="email", status__in=["pending", "sending"]).exists())
    smtp_server.messages.clear()
    client = api_as(manager)
    response = client.post(
        f"/api/v1/releases/{approved_release.pk}/reports/", {"email_stakeholders": True}, format="json"
    )
    assert response.status_code == 202, response.content

    wait_for(lambda: len(smtp_server.messages) >= 2, timeout=90, what="the report's e-mails")
    with smtp_server.lock:
        mails = {m["To"]: m for m in smtp_server.messages}
    assert set(mails) == {"stakeholder@example.com", "board@example.org"}
    mail = mails["stakeholder@example.com"]
    assert mail["Subject"] == "Readiness report of Billing 2.0"
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    text = pdf_text(attachment.get_content(), tmp_path)
    assert "Readiness report: Billing 2.0" in text
    assert "100 %" in text
    register = text.split("Sign-off register", 1)[1]
    assert "Regression tests" in register
    assert "Looks good." in register


def test_a_czech_report_is_in_czech_with_czech_dates(media, ready_release, manager, tmp_path):
    from notifications.services.reports import report_html

    report = report_request(release=ready_release, actor=manager, language="cs")
    html = report_html(report)
    with translation.override("cs"):
        assert str(Release.State.IN_PROGRESS.label) == "Rozpracováno"
    assert "Rozpracováno" in html
    months = ("ledna", "února", "března", "dubna", "května", "června", "července", "srpna", "září", "října",
              "listopadu", "prosince")  # fmt: skip
    assert any(f" {month} 20" in html for month in months)  # dates the Czech way: "11. prosince 2026"
    assert "Spuštění" in html
    assert "Readiness report" not in html
    made = report_generate(report_id=report.pk)
    assert made.status == "done"
    text = pdf_text(made.pdf.read(), tmp_path)
    assert "Rozpracováno" in text


@pytest.mark.django_db
def test_the_profile_language_is_the_default(media, ready_release, manager):
    from notifications.services import profile_update

    profile_update(user=manager, actor=manager, language="cs")
    assert report_request(release=ready_release, actor=manager).language == "cs"


@pytest.mark.django_db
def test_made_twice_the_report_is_made_once(media, ready_release, manager):
    report = report_request(release=ready_release, actor=manager)
    assert report_generate(report_id=report.pk).status == "done"
    assert report_generate(report_id=report.pk) is None
    assert len(list(media.rglob("*.pdf"))) == 1


@pytest.mark.django_db
def test_a_report_asked_to_be_mailed_goes_to_the_outbox_when_done(media, ready_release, manager, monkeypatch):
    told = []
    monkeypatch.setattr("notifications.services.reports.outbox_report_ready", lambda *, report: told.append(report))
    report = report_request(release=ready_release, actor=manager, email_stakeholders=True)
    report_generate(report_id=report.pk)
    assert [r.pk for r in told] == [report.pk]


@pytest.mark.django_db
def test_a_failed_render_is_marked_failed_with_the_error(media, ready_release, manager, monkeypatch):
    def broken(html):
        raise RuntimeError("no fonts")

    monkeypatch.setattr("notifications.services.reports.html_to_pdf", broken)
    report = report_request(release=ready_release, actor=manager)
    made = report_generate(report_id=report.pk)
    assert made.status == "failed"
    assert "no fonts" in made.error
    assert made.finished_at


@pytest.mark.django_db
def test_only_managers_may_mail_the_stakeholders(api_as, ready_release, qa):
    response = api_as(qa).post(
        f"/api/v1/releases/{ready_release.pk}/reports/", {"email_stakeholders": True}, format="json"
    )
    assert response.status_code == 403
    response = api_as(qa).post(f"/api/v1/releases/{ready_release.pk}/reports/", {}, format="json")
    assert response.status_code == 202


@pytest.mark.django_db
def test_bad_language_is_a_field_error(api_as, ready_release, manager):
    response = api_as(manager).post(f"/api/v1/releases/{ready_release.pk}/reports/", {"language": "xx"}, format="json")
    assert response.status_code == 400
    assert "language" in response.json()


@pytest.mark.django_db
def test_the_pdf_is_a_conflict_until_done(api_as, ready_release, manager):
    report = report_request(release=ready_release, actor=manager)
    response = api_as(manager).get(f"/api/v1/reports/{report.pk}/pdf/")
    assert response.status_code == 409
    assert response.json()["code"] == "report_not_ready"
    listed = api_as(manager).get(f"/api/v1/releases/{ready_release.pk}/reports/").json()
    assert [r["id"] for r in listed["results"]] == [report.pk]
    assert listed["results"][0]["requested_by_username"] == "manager"


@pytest.mark.django_db
def test_an_outsider_gets_404_everywhere(api_as, client, media, ready_release, manager, outsider):
    report = report_generate(report_id=report_request(release=ready_release, actor=manager).pk)
    api = api_as(outsider)
    rid, rel = report.pk, ready_release.pk
    assert api.post(f"/api/v1/releases/{rel}/reports/", {}, format="json").status_code == 404
    for path in (f"/api/v1/releases/{rel}/reports/", f"/api/v1/reports/{rid}/", f"/api/v1/reports/{rid}/pdf/",
                 f"/api/v1/releases/{rel}/checklist.csv"):  # fmt: skip
        assert api.get(path).status_code == 404, path
    client.force_login(outsider)
    for path in (f"/releases/{rel}/reports/", f"/releases/{rel}/report/", f"/releases/{rel}/checklist.csv",
                 f"/reports/{rid}/pdf/"):  # fmt: skip
        assert client.get(path).status_code == 404, path
    assert client.post(f"/releases/{rel}/reports/", {"language": "en"}).status_code == 404
    assert not Report.objects.exclude(pk=rid).exists()


@pytest.mark.django_db
def test_the_print_page_and_the_reports_box(client, media, ready_release, manager, qa):
    client.force_login(qa)
    page = client.get(f"/releases/{ready_release.pk}/report/").content.decode()
    assert "Readiness report: Billing 2.0" in page
    assert "Regression tests" in page
    assert "Looks good." in page
    response = client.post(f"/releases/{ready_release.pk}/reports/", {"language": "en"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    box = response.content.decode()
    assert "Generate PDF report" in box
    assert "Waiting" in box
    assert 'hx-trigger="every 3s' in box
    assert 'name="email_stakeholders"' not in box  # qa manages nothing
    report = report_generate(report_id=Report.objects.get().pk)
    box = client.get(f"/releases/{ready_release.pk}/reports/", HTTP_HX_REQUEST="true").content.decode()
    assert f"/reports/{report.pk}/pdf/" in box
    assert "every 3s" not in box
    download = client.get(f"/reports/{report.pk}/pdf/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    release_page = client.get(f"/releases/{ready_release.pk}/").content.decode()
    assert f'hx-get="/releases/{ready_release.pk}/reports/"' in release_page


@pytest.mark.django_db
def test_the_report_reads_the_same_few_queries_for_5_or_500_items(
    scenario, release, contributor, qa, qa2, django_assert_max_num_queries
):
    approvers = [qa, qa2, scenario.join(release.project, scenario.person("qa3", roles=["QA"]))]
    bulk_items(release=release, count=5, contributor=contributor, approvers=approvers)
    with django_assert_max_num_queries(10):
        few = report_context(release.pk)
    bulk_items(release=release, count=495, contributor=contributor, approvers=approvers)
    with django_assert_max_num_queries(10):
        many = report_context(release.pk)
    assert many["item_count"] == 500
    assert len(many["register"]) == 1000
    assert few["item_count"] == 5


@pytest.mark.django_db
def test_open_and_blocked_items_come_first(scenario, release, make_item, manager, contributor):
    done_item = make_item(title="Done first", assignee=contributor, role="")
    scenario.work_item(done_item, by=contributor, evidence_url="https://ci.example.com/1")
    make_item(title="Still open", assignee=contributor)
    blocked = make_item(title="Blocked one", assignee=contributor)
    scenario.work_item(blocked, by=contributor, state="blocked", blocked_reason="Waiting for staging.")
    context = report_context(release.pk)
    assert [r["title"] for r in context["first"]] == ["Blocked one", "Still open"]
    assert [r["title"] for r in context["rest"]] == ["Done first"]


@pytest.mark.django_db
def test_schedules_make_a_weekly_report_and_one_before_the_go_live_once(scenario, release, manager, qa):
    scenario.update(release, stakeholders=[qa])
    first = reports_schedule()
    assert [r.kind for r in first] == ["weekly"]
    assert reports_schedule() == []
    scenario.update(release, go_live_at=in_days(1.5))
    [before] = reports_schedule()
    assert before.kind == "before_go_live"
    assert before.requested_by is None
    assert before.email_stakeholders
    assert reports_schedule() == []
    scenario.update(release, go_live_at=in_days(1.2))  # moved: its own report
    assert [r.kind for r in reports_schedule()] == ["before_go_live"]


@pytest.mark.django_db
def test_closed_releases_and_releases_nobody_follows_get_no_scheduled_report(scenario, release, manager, qa):
    assert reports_schedule() == []  # no stakeholders
    scenario.update(release, stakeholders=[qa])
    from releases.services import release_transition

    release_transition(release=release, actor=manager, to="cancelled", reason="Not needed.")
    assert reports_schedule() == []


@pytest.mark.django_db
def test_reports_left_waiting_are_queued_again(ready_release, manager, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    report = report_request(release=ready_release, actor=manager)
    assert reports_requeue() == []
    assert reports_requeue(now=timezone.now() + dt.timedelta(minutes=5)) == [report.pk]
