"""Delegation: an approver who is away names a delegate holding the same role."""

import pytest
from django.contrib.auth.models import Group

from approvals.models import Delegation, SignOff
from approvals.selectors import item_status
from approvals.services import delegation_cancel, delegation_create, signoff_grant
from config.domain import Conflict, Forbidden, Invalid
from releases.models import AuditEvent
from tests.factories import in_days


@pytest.fixture
def qa_role(db):
    return Group.objects.get_or_create(name="QA")[0]


@pytest.fixture
def ready_item(make_item, done, contributor):
    """A done QA item waiting for its sign-off."""
    item = make_item(assignee=contributor)
    done(item)
    return item


@pytest.fixture
def delegation(scenario, qa, qa2):
    """qa is away: qa2 signs for qa, from yesterday to next week."""
    return scenario.delegate(qa, qa2, "QA", starts_at=in_days(-1), ends_at=in_days(7))


def test_delegate_signs_on_behalf_of_the_approver(ready_item, delegation, qa, qa2):
    signoff = signoff_grant(item=ready_item, actor=qa2, decision="approve", on_behalf_of=qa)

    assert signoff.approver == qa
    assert signoff.signed_by == qa2
    assert signoff.delegation == delegation
    assert item_status(ready_item).is_ready
    event = AuditEvent.objects.get(action="signoff.approved", target_id=signoff.pk)
    assert event.actor == qa2
    assert event.after["on_behalf_of"] == "qa"


def test_delegation_is_recorded(delegation, qa):
    event = AuditEvent.objects.get(action="delegation.created", target_id=delegation.pk)
    assert event.actor == qa
    assert event.after["delegate"] == "qa2"


def test_delegate_cannot_sign_before_the_delegation_starts(ready_item, qa, qa2, qa_role):
    delegation_create(actor=qa, delegate=qa2, role=qa_role, starts_at=in_days(2), ends_at=in_days(7))

    with pytest.raises(Forbidden) as exc:
        signoff_grant(item=ready_item, actor=qa2, decision="approve", on_behalf_of=qa)

    assert exc.value.code == "no_delegation"
    assert not SignOff.objects.filter(item=ready_item).exists()


def test_delegate_cannot_sign_after_the_delegation_ended(ready_item, qa, qa2, qa_role):
    # Created directly: the service refuses a range that is already over.
    Delegation.objects.create(delegator=qa, delegate=qa2, role=qa_role, starts_at=in_days(-9), ends_at=in_days(-2))

    with pytest.raises(Forbidden) as exc:
        signoff_grant(item=ready_item, actor=qa2, decision="approve", on_behalf_of=qa)

    assert exc.value.code == "no_delegation"


def test_delegate_cannot_sign_once_the_delegation_is_cancelled(ready_item, delegation, qa, qa2):
    delegation_cancel(delegation=delegation, actor=qa)

    with pytest.raises(Forbidden) as exc:
        signoff_grant(item=ready_item, actor=qa2, decision="approve", on_behalf_of=qa)

    assert exc.value.code == "no_delegation"


def test_without_a_delegation_nobody_signs_on_someone_elses_behalf(ready_item, qa, qa2):
    with pytest.raises(Forbidden) as exc:
        signoff_grant(item=ready_item, actor=qa2, decision="approve", on_behalf_of=qa)

    assert exc.value.code == "no_delegation"


def test_delegate_must_hold_the_role(qa, security, qa_role):
    with pytest.raises(Invalid) as exc:
        delegation_create(actor=qa, delegate=security, role=qa_role, starts_at=in_days(-1), ends_at=in_days(7))

    assert "delegate" in exc.value.fields
    assert not Delegation.objects.exists()


def test_only_a_role_holder_can_delegate_it(security, qa, qa_role):
    with pytest.raises(Forbidden) as exc:
        delegation_create(actor=security, delegate=qa, role=qa_role, starts_at=in_days(-1), ends_at=in_days(7))

    assert exc.value.code == "missing_role"


def test_delegation_must_end_after_it_starts(qa, qa2, qa_role):
    with pytest.raises(Invalid) as exc:
        delegation_create(actor=qa, delegate=qa2, role=qa_role, starts_at=in_days(3), ends_at=in_days(2))

    assert "ends_at" in exc.value.fields


def test_approver_cannot_sign_again_what_their_delegate_signed(ready_item, delegation, qa, qa2):
    signoff_grant(item=ready_item, actor=qa2, decision="approve", on_behalf_of=qa)

    with pytest.raises(Conflict) as exc:
        signoff_grant(item=ready_item, actor=qa, decision="approve")

    assert exc.value.code == "already_signed"
    assert (
        exc.value.message == "qa2 has signed off this version of the item on your behalf already; it counts as yours."
    )
    assert item_status(ready_item).valid_approvals == 1


def test_delegate_cannot_also_sign_for_themselves(make_item, done, contributor, delegation, qa, qa2):
    item = make_item(assignee=contributor, signoffs=2)
    done(item)
    signoff_grant(item=item, actor=qa2, decision="approve", on_behalf_of=qa)

    with pytest.raises(Conflict) as exc:
        signoff_grant(item=item, actor=qa2, decision="approve")

    assert exc.value.code == "already_signed"
    assert exc.value.message.startswith("You have signed off this version of the item already, on qa's behalf;")
    status = item_status(item)
    assert status.valid_approvals == 1
    assert not status.is_signed


def test_delegate_cannot_sign_for_an_approver_who_is_the_assignee(make_item, done, manager, delegation, qa, qa2):
    item = make_item(assignee=qa)
    done(item, by=manager)

    with pytest.raises(Forbidden) as exc:
        signoff_grant(item=item, actor=qa2, decision="approve", on_behalf_of=qa)

    assert exc.value.code == "separation_of_duties"
    assert exc.value.message.startswith("Separation of duties: qa is the item's assignee, so they can't sign it off.")
