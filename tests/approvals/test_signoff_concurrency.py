"""Sign-offs at the same moment, on PostgreSQL, from separate connections (threads)."""

import pytest

from approvals.models import SignOff
from approvals.selectors import item_status
from approvals.services import signoff_grant
from config.domain import Conflict
from tests.concurrency import at_once

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_approvers_signing_at_once_both_count(postgresql, make_item, done, contributor, qa, qa2):
    item = make_item(assignee=contributor, signoffs=2)
    done(item)
    for _ in range(5):
        results = at_once(
            lambda: signoff_grant(item=item, actor=qa, decision="approve"),
            lambda: signoff_grant(item=item, actor=qa2, decision="approve"),
        )
        assert all(isinstance(r, SignOff) for r in results), results
        status = item_status(item)
        assert status.valid_approvals == 2
        assert status.is_ready
        # Make them stale for the next round (evidence changes, item done again).
        done(item, evidence_url=f"https://ci.example.com/build/{status.revision + 1}")


def test_one_person_signing_twice_at_once_counts_once(postgresql, make_item, done, contributor, qa):
    item = make_item(assignee=contributor, signoffs=2)
    done(item)
    results = at_once(*[lambda: signoff_grant(item=item, actor=qa, decision="approve")] * 4)
    assert sum(isinstance(r, SignOff) for r in results) == 1
    assert all(isinstance(r, Conflict) and r.code == "already_signed" for r in results if not isinstance(r, SignOff))
    assert SignOff.objects.filter(item=item).count() == 1
    assert item_status(item).valid_approvals == 1
