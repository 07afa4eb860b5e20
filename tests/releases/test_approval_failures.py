"""A refused go/no-go tells the release manager what to chase: where each item is, who has
it, what blocks it, who rejected it and why, and which approvals went stale."""

import pytest

from approvals.services import item_update, signoff_grant
from config.domain import Conflict
from releases.services import release_transition


def refused(release, manager):
    with pytest.raises(Conflict) as exc:
        release_transition(release=release, actor=manager, to="approved")
    return exc.value


def test_an_unfinished_item_names_its_section_assignee_and_what_blocks_it(release, manager, make_item, contributor):
    item = make_item(title="Pen test", assignee=contributor, section="Security")
    item_update(item=item, actor=contributor, state="blocked", blocked_reason="Waiting for the vendor")

    error = refused(release, manager)

    not_done = next(f for f in error.failures if f["code"] == "item_not_done")
    assert not_done["item"] == item.pk
    assert (not_done["assignee"], not_done["section"], not_done["state"]) == ("contributor", "Security", "blocked")
    assert not_done["blocked_reason"] == "Waiting for the vendor"
    assert "Pen test [Security]" in not_done["message"]
    assert "Waiting for the vendor" in not_done["message"]
    assert "assigned to contributor" in not_done["message"]
    assert error.message.endswith(f"{len(error.failures)} unmet condition(s).")


def test_a_missing_signoff_says_how_many_approvals_went_stale(release, manager, make_item, done, contributor, qa):
    item = make_item(title="Load test", assignee=contributor)
    done(item)
    signoff_grant(item=item, actor=qa, decision="approve")
    done(item, evidence_url="https://ci.example.com/build/2")  # new evidence: qa's approval is stale

    missing = next(f for f in refused(release, manager).failures if f["code"] == "signoff_missing")

    assert (missing["have"], missing["need"], missing["stale"], missing["role"]) == (0, 1, 1, "QA")
    assert "went stale" in missing["message"]


def test_a_standing_rejection_quotes_who_rejected_and_why(release, manager, make_item, done, contributor, qa):
    item = make_item(title="Docs", assignee=contributor)
    done(item)
    signoff_grant(item=item, actor=qa, decision="reject", comment="The runbook is missing")

    rejected = next(f for f in refused(release, manager).failures if f["code"] == "item_rejected")

    assert (rejected["rejected_by"], rejected["comment"]) == ("qa", "The runbook is missing")
    assert "The runbook is missing" in rejected["message"]


def test_the_go_no_go_recomputes_the_status_it_decides_on(release, manager, make_item, done, contributor, qa):
    """Stored status that drifted (a row written past the services, e.g. by an older process
    during a deploy) can't carry a release through the go/no-go: it is computed afresh."""
    from io import StringIO

    from django.core.management import call_command

    from approvals.models import ChecklistItem
    from releases.models import Release

    item = make_item(title="Smoke test", assignee=contributor)
    done(item)
    signoff_grant(item=item, actor=qa, decision="approve")
    ChecklistItem.objects.filter(pk=item.pk).update(state="in_progress")  # past the services
    assert Release.objects.get(pk=release.pk).readiness == 100  # as stored, wrongly

    not_done = next(f for f in refused(release, manager).failures if f["code"] == "item_not_done")

    assert not_done["item"] == item.pk
    call_command("check_readiness", "--fix", stdout=StringIO())  # the refusal rolled its work back
    assert Release.objects.get(pk=release.pk).readiness == 0
