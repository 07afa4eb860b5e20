"""Who is told what, as the outbox rows show it right after the change (same transaction)."""

import pytest

from notifications.models import Event, Notification, Preference
from notifications.recipients import eligible_approvers
from tests.factories import in_days

pytestmark = pytest.mark.django_db


def _told(event, channel="email"):
    rows = Notification.objects.filter(event=event, channel=channel).select_related("user")
    return sorted(row.user.username if row.user else row.address for row in rows)


def test_rejection_tells_the_assignee_and_each_manager_not_the_rejecter(
    scenario, make_item, contributor, qa, manager, done
):
    item = make_item(assignee=contributor)
    done(item)
    scenario.signoff(item, qa, decision="reject", comment="Flaky test suite.")
    assert _told(Event.SIGNOFF_REJECTED) == ["contributor", "manager"]
    assert _told(Event.SIGNOFF_REJECTED, "inbox") == ["contributor", "manager"]
    assert not Notification.objects.filter(user=qa, event=Event.SIGNOFF_REJECTED).exists()


def test_item_done_tells_each_eligible_approver(scenario, make_item, contributor, qa, qa2, security, done):
    item = make_item(assignee=contributor, role="QA")
    done(item)
    assert _told(Event.ITEM_AWAITING_SIGNOFF) == ["qa", "qa2"]


def test_an_approver_who_did_the_item_is_not_asked_to_sign_it(scenario, make_item, qa, qa2, done):
    item = make_item(assignee=qa, role="QA")
    done(item)
    assert _told(Event.ITEM_AWAITING_SIGNOFF) == ["qa2"]
    item.refresh_from_db()
    assert [u.username for u in eligible_approvers(item)] == ["qa2"]


def test_outsider_holding_the_role_is_not_told(scenario, make_item, contributor, qa, outsider, done):
    item = make_item(assignee=contributor, role="QA")
    done(item)
    assert "outsider" not in _told(Event.ITEM_AWAITING_SIGNOFF)
    assert not Notification.objects.filter(user=outsider).exists()


def test_delegate_of_an_approver_is_told(scenario, make_item, contributor, qa, project, done):
    from tests.factories import in_days

    stand_in = scenario.join(project, scenario.person("standin", roles=["QA"]))
    scenario.delegate(qa, stand_in, "QA", starts_at=in_days(-1), ends_at=in_days(5))
    item = make_item(assignee=contributor, role="QA")
    done(item)
    assert "standin" in _told(Event.ITEM_AWAITING_SIGNOFF)


def test_assignment_tells_the_new_assignee(scenario, make_item, contributor, manager):
    make_item(assignee=contributor)
    assert _told(Event.ITEM_ASSIGNED) == ["contributor"]


def test_mention_tells_only_the_mentioned_who_can_see(scenario, make_item, contributor, qa, outsider):
    from approvals.services.comments import comment_create

    item = make_item(assignee=contributor)
    comment_create(item=item, actor=contributor, body="@qa can you look? @outsider too")
    assert _told(Event.COMMENT_MENTION) == ["qa"]


def test_release_events_tell_stakeholders_and_outside_addresses(scenario, release, manager, project):
    watcher = scenario.join(project, scenario.person("watcher"))
    scenario.update(release, by=manager, stakeholders=[watcher], stakeholder_emails=["ops@example.org"])
    from releases.services import release_transition

    release_transition(release=release, actor=manager, to="cancelled", reason="Postponed to Q3.")
    assert _told(Event.RELEASE_CANCELLED) == ["ops@example.org", "watcher"]


def test_off_preference_tells_nothing_and_digest_waits(scenario, make_item, contributor, qa, qa2, done):
    Preference.objects.create(user=qa, event=Event.ITEM_AWAITING_SIGNOFF, mode="off")
    Preference.objects.create(user=qa2, event=Event.ITEM_AWAITING_SIGNOFF, mode="digest")
    item = make_item(assignee=contributor, role="QA")
    done(item)
    assert not Notification.objects.filter(user=qa).exists()
    row = Notification.objects.get(user=qa2, channel="email")
    assert row.status == "in_digest"


def test_critical_events_cannot_be_turned_off(scenario, release, manager, project):
    watcher = scenario.join(project, scenario.person("watcher"))
    scenario.update(release, by=manager, stakeholders=[watcher])
    Preference.objects.create(user=watcher, event=Event.RELEASE_CANCELLED, mode="off")
    from releases.services import release_transition

    release_transition(release=release, actor=manager, to="cancelled", reason="Postponed.")
    assert Notification.objects.get(user=watcher, channel="email").status == "pending"


def test_delegate_who_cannot_see_the_release_is_not_told(scenario, make_item, contributor, qa, outsider, done):
    scenario.delegate(qa, outsider, "QA", starts_at=in_days(-1), ends_at=in_days(5))
    item = make_item(assignee=contributor, role="QA", title="Rotate the payment keys")
    done(item)
    leaked = Notification.objects.filter(user=outsider)
    assert not leaked.exists(), [(r.channel, r.context["item"], r.context["release"]) for r in leaked]


def test_signed_item_moved_to_not_applicable_tells_approvers_again(scenario, make_item, contributor, qa, qa2, done):
    item = make_item(assignee=contributor, role="QA")
    done(item)
    scenario.signoff(item, qa)
    Notification.objects.all().delete()
    scenario.work_item(item, state="not_applicable", justification="No payment change in this release.")
    item.refresh_from_db()
    assert item.needs_signoff
    assert not item.is_signed
    assert Notification.objects.filter(event=Event.ITEM_AWAITING_SIGNOFF, channel="email").exists()


def test_stakeholder_listed_twice_gets_one_mail(scenario, release, manager, project):
    watcher = scenario.join(project, scenario.person("watcher"))
    scenario.update(release, by=manager, stakeholders=[watcher], stakeholder_emails=[watcher.email])
    from releases.services import release_transition

    release_transition(release=release, actor=manager, to="cancelled", reason="Postponed.")
    mails = Notification.objects.filter(event=Event.RELEASE_CANCELLED, channel="email")
    assert len([r for r in mails if (r.address or r.user.email) == watcher.email]) == 1
