"""The go/no-go record: what the approval decided is kept as it was, whatever happens after."""

import pytest
from django.db import DatabaseError, transaction

from approvals.services import signoff_revoke
from releases import services
from releases.models import GoNoGoRecord

pytestmark = pytest.mark.django_db


def test_approving_keeps_who_when_readiness_and_the_signoffs_that_counted(approved_release, manager, qa):
    [record] = GoNoGoRecord.objects.filter(release=approved_release)
    assert record.decided_by == manager
    assert record.decided_by_name == "manager"
    assert record.decided_at == approved_release.approved_at
    assert (record.readiness, record.required_ready, record.required_total) == (100, 1, 1)
    [signoff] = record.snapshot["signoffs"]
    assert signoff["item_title"] == "Regression tests"
    assert (signoff["approver"], signoff["signed_by"], signoff["role"]) == ("qa", "qa", "QA")
    assert signoff["decision"] == "approve"
    assert signoff["on_behalf_of"] is None
    assert record.snapshot["freeze_override"] is None


def test_the_record_stays_as_it_was_after_later_changes_and_a_second_approval_makes_another(
    approved_release, manager, qa, scenario, make_item, done, contributor
):
    [first] = GoNoGoRecord.objects.filter(release=approved_release)
    kept = (first.snapshot, first.readiness, first.decided_at)
    signoff = approved_release.items.get().signoffs.get()
    signoff_revoke(signoff=signoff, actor=qa, reason="Signed too early.")  # the release goes back to work
    approved_release.refresh_from_db()
    assert approved_release.state == "in_progress"
    first.refresh_from_db()
    assert (first.snapshot, first.readiness, first.decided_at) == kept

    item = approved_release.items.get()
    scenario.signoff(item, scenario.join(approved_release.project, scenario.person("qa9", roles=["QA"])))
    approved_release.refresh_from_db()
    services.release_transition(release=approved_release, actor=manager, to="approved")
    records = list(GoNoGoRecord.objects.filter(release=approved_release).order_by("decided_at"))
    assert len(records) == 2
    assert (records[0].snapshot, records[0].readiness, records[0].decided_at) == kept
    assert [s["approver"] for s in records[1].snapshot["signoffs"]] == ["qa9"]


def test_the_database_refuses_to_change_a_record(approved_release, postgresql):
    record = GoNoGoRecord.objects.get(release=approved_release)
    with pytest.raises(DatabaseError), transaction.atomic():
        GoNoGoRecord.objects.filter(pk=record.pk).update(readiness=0)
    with pytest.raises(DatabaseError), transaction.atomic():
        GoNoGoRecord.objects.filter(pk=record.pk).delete()


def test_a_refused_approval_keeps_no_record(release, manager):
    from config.domain import Conflict

    with pytest.raises(Conflict):
        services.release_transition(release=release, actor=manager, to="approved")
    assert not GoNoGoRecord.objects.exists()


def test_a_freeze_override_is_kept_with_its_windows_and_reason(ready_release, manager, scenario, media, tmp_path):
    import datetime as dt

    from django.contrib.auth.models import Permission

    from notifications.services import report_generate, report_request

    from .conftest import pdf_text

    scenario.freeze(
        "Year-end freeze",
        starts_at=ready_release.go_live_at - dt.timedelta(days=1),
        ends_at=ready_release.go_live_at + dt.timedelta(days=1),
    )
    manager.user_permissions.add(Permission.objects.get(codename="override_freeze", content_type__app_label="releases"))
    overrider = type(manager).objects.get(pk=manager.pk)
    services.release_transition(
        release=ready_release, actor=overrider, to="approved", override_freeze=True, reason="Security fix"
    )
    record = GoNoGoRecord.objects.get(release=ready_release)
    assert record.snapshot["freeze_override"] == {"windows": ["Year-end freeze"], "reason": "Security fix"}
    report = report_generate(report_id=report_request(release=ready_release, actor=manager, language="en").pk)
    text = pdf_text(report.pdf.read(), tmp_path)
    assert "Freeze window overridden:" in text
    assert "Year-end freeze" in text
    assert "Security fix" in text
