from approvals.services import signoff_grant
from releases.selectors import release_get


def test_release_readiness_counts_signed_done_items(release, make_item, done, contributor, qa, manager):
    item = make_item(assignee=contributor)
    make_item(title="Docs", role=None)
    assert release_get(user=manager, pk=release.pk).readiness == 0
    done(item)
    signoff_grant(item=item, actor=qa, decision="approve")
    assert release_get(user=manager, pk=release.pk).readiness == 50
