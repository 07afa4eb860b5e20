"""Readiness: required items done and signed / required items, computed in the database."""

from approvals.services import item_update, signoff_grant
from releases.selectors import release_get, release_list


def test_readiness_grows_as_required_items_are_done_and_signed(release, make_item, done, contributor, qa, readiness):
    required = [make_item(title=f"Check {n}", assignee=contributor) for n in range(4)]
    optional = make_item(title="Nice to have", assignee=contributor, required=False)
    assert readiness(release) == 0

    done(required[0])
    assert readiness(release) == 0  # done but not signed yet
    signoff_grant(item=required[0], actor=qa, decision="approve")
    assert readiness(release) == 25

    done(optional)
    signoff_grant(item=optional, actor=qa, decision="approve")
    assert readiness(release) == 25  # optional items don't count

    for n, item in enumerate(required[1:], start=2):
        done(item)
        signoff_grant(item=item, actor=qa, decision="approve")
        assert readiness(release) == 25 * n


def test_item_without_a_signoff_counts_once_done(release, make_item, done, contributor, readiness):
    item = make_item(title="Update the changelog", role=None, assignee=contributor)
    make_item(title="Security review", assignee=contributor)

    done(item)

    assert readiness(release) == 50


def test_readiness_drops_when_a_done_item_is_reopened(release, make_item, done, contributor, qa, readiness):
    item = make_item(assignee=contributor)
    done(item)
    signoff_grant(item=item, actor=qa, decision="approve")
    assert readiness(release) == 100

    item_update(item=item, actor=contributor, state="in_progress")

    assert readiness(release) == 0


def test_release_list_shows_the_same_readiness(release, make_item, done, contributor, qa, manager):
    item = make_item(assignee=contributor)
    make_item(title="Docs", role=None)
    done(item)
    signoff_grant(item=item, actor=qa, decision="approve")

    listed = {r.pk: r.readiness for r in release_list(user=manager)}

    assert listed[release.pk] == 50
    assert release_get(user=qa, pk=release.pk).readiness == 50


def test_outsider_gets_no_readiness(release, outsider):
    assert release_get(user=outsider, pk=release.pk) is None
