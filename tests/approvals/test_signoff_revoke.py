"""Revoking sign-offs, and sign-offs (and the audit trail) never being edited or deleted."""

import pytest
from django.db import Error, transaction

from approvals.models import SignOff
from approvals.selectors import item_status
from approvals.services import signoff_grant, signoff_revoke
from config.domain import Conflict, Forbidden, Invalid, NotFound
from releases.models import AuditEvent
from releases.services import release_transition


@pytest.fixture
def approval(scenario, make_item, done, contributor, qa):
    """qa's approval of a done item; the item is the release's only one, so it is ready."""
    item = make_item(assignee=contributor)
    done(item)
    return scenario.signoff(item, qa, comment="Looks good.")


def test_approver_revokes_own_signoff_with_a_reason(release, approval, qa, readiness, audit_actions):
    assert readiness(release) == 100

    revoked = signoff_revoke(signoff=approval, actor=qa, reason="I reviewed the wrong build.")

    assert revoked.revoked_at is not None
    assert revoked.revoked_reason == "I reviewed the wrong build."
    status = item_status(approval.item)
    assert status.valid_approvals == 0
    assert not status.is_signed
    assert readiness(release) == 0
    assert "signoff.revoked" in audit_actions(release, target=approval)


def test_revoking_needs_a_reason(release, approval, qa, readiness):
    with pytest.raises(Invalid) as exc:
        signoff_revoke(signoff=approval, actor=qa, reason="  ")

    assert "reason" in exc.value.fields
    approval.refresh_from_db()
    assert approval.revoked_at is None
    assert readiness(release) == 100


@pytest.mark.parametrize("who", ["qa2", "manager"])
def test_someone_else_cannot_revoke_a_signoff(request, release, approval, readiness, who):
    with pytest.raises(Forbidden) as exc:
        signoff_revoke(signoff=approval, actor=request.getfixturevalue(who), reason="I disagree.")

    assert exc.value.code == "not_signoff_owner"
    approval.refresh_from_db()
    assert approval.revoked_at is None
    assert readiness(release) == 100


def test_outsider_cannot_find_a_signoff_to_revoke(approval, outsider):
    with pytest.raises(NotFound):
        signoff_revoke(signoff=approval, actor=outsider, reason="No.")


def test_a_signoff_is_revoked_once(approval, qa):
    signoff_revoke(signoff=approval, actor=qa, reason="Wrong build.")

    with pytest.raises(Conflict) as exc:
        signoff_revoke(signoff=approval, actor=qa, reason="Again.")

    assert exc.value.code == "already_revoked"


def test_approver_may_sign_again_after_revoking(approval, qa):
    signoff_revoke(signoff=approval, actor=qa, reason="Wrong build.")

    signoff_grant(item=approval.item, actor=qa, decision="approve")

    assert item_status(approval.item).valid_approvals == 1
    assert SignOff.objects.filter(item=approval.item).count() == 2  # the revoked one stays


def test_revoking_sends_an_approved_release_back_to_in_progress(release, approval, manager, qa, audit_actions):
    release_transition(release=release, actor=manager, to="approved")

    signoff_revoke(signoff=approval, actor=qa, reason="Wrong build.")

    release.refresh_from_db()
    assert release.state == "in_progress"
    assert audit_actions(release)[-1] == "release.in_progress"


def test_revoke_is_refused_once_the_release_is_live(release, approval, manager, qa, readiness):
    release_transition(release=release, actor=manager, to="approved")
    release_transition(release=release, actor=manager, to="live")

    with pytest.raises(Conflict) as exc:
        signoff_revoke(signoff=approval, actor=qa, reason="Second thoughts.")

    assert exc.value.code == "release_live"
    approval.refresh_from_db()
    assert approval.revoked_at is None
    assert readiness(release) == 100


# --- never edited, never deleted (PostgreSQL triggers) -----------------------------------


@pytest.mark.usefixtures("postgresql")
def test_a_signoff_row_cannot_be_edited(approval):
    with pytest.raises(Error), transaction.atomic():
        SignOff.objects.filter(pk=approval.pk).update(comment="x")

    approval.refresh_from_db()
    assert approval.comment == "Looks good."


@pytest.mark.usefixtures("postgresql")
def test_a_signoff_row_cannot_be_deleted(approval):
    with pytest.raises(Error), transaction.atomic():
        SignOff.objects.filter(pk=approval.pk).delete()

    assert SignOff.objects.filter(pk=approval.pk).exists()


@pytest.mark.usefixtures("postgresql")
def test_a_revoked_signoff_cannot_be_restored(approval, qa):
    signoff_revoke(signoff=approval, actor=qa, reason="Wrong build.")

    with pytest.raises(Error), transaction.atomic():
        SignOff.objects.filter(pk=approval.pk).update(revoked_at=None, revoked_reason="")

    approval.refresh_from_db()
    assert approval.revoked_at is not None


@pytest.mark.usefixtures("postgresql")
def test_audit_events_cannot_be_edited_or_deleted(release, approval):
    event = AuditEvent.objects.get(action="signoff.approved", target_id=approval.pk)

    with pytest.raises(Error), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="signoff.rejected")
    with pytest.raises(Error), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()

    event.refresh_from_db()
    assert event.action == "signoff.approved"


@pytest.mark.django_db
def test_the_item_page_offers_to_revoke_a_standing_approval_but_not_a_stale_one(client, approval, done, qa):
    client.force_login(qa)
    page = f"/items/{approval.item_id}/"
    assert "Revoke my sign-off" in client.get(page).content.decode()
    done(approval.item, evidence_url="https://ci.example.com/build/2")  # new evidence: the approval goes stale
    text = client.get(page).content.decode()
    assert "stale: the item changed since" in text
    assert "Revoke my sign-off" not in text
