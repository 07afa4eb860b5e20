"""A release's checklist costs the same number of queries for 200 items with sign-offs
(valid, stale, revoked, rejections) as for 2, and an item the same with 10 sign-offs as
with 1: sign-off status is computed in the database, sign-offs come prefetched."""

import pytest

from approvals.services import item_update, signoff_grant, signoff_revoke

from .. import api_fixtures
from ..api_fixtures import API, bulk_items, count_queries

api = api_fixtures.api  # the fixture this module uses


@pytest.fixture
def approvers(scenario, project, qa, qa2):
    """Ten project members holding the QA role (qa and qa2 first)."""
    more = [scenario.join(project, scenario.person(f"approver{i}", roles=["QA"])) for i in range(8)]
    return [qa, qa2, *more]


def _summary(items):
    """Per item: (ready, valid approvals, standing rejection, signoffs, stale, revoked)."""
    return [
        (
            i["is_ready"],
            i["valid_approvals"],
            i["has_rejection"],
            len(i["signoffs"]),
            sum(s["stale"] for s in i["signoffs"]),
            sum(s["revoked"] for s in i["signoffs"]),
        )
        for i in items
    ]


PATTERN = [
    (True, 1, False, 3, 1, 1),  # done: a valid, a stale and a revoked approval
    (False, 0, False, 1, 1, 0),  # done: only a stale approval
    (False, 0, True, 2, 1, 1),  # back in progress: a standing rejection, a revoked (and stale) approval
    (True, 2, False, 2, 0, 0),  # done: a quorum of two
]


@pytest.mark.parametrize("who", ["manager", "contributor"])
def test_checklist_costs_the_same_for_200_items_as_for_2(
    api, release, manager, contributor, approvers, who, django_assert_num_queries, django_assert_max_num_queries
):
    bulk_items(release=release, count=2, contributor=contributor, approvers=approvers)
    client = api(manager if who == "manager" else contributor)
    path = f"{API}/releases/{release.pk}/items/?page_size=200"
    with django_assert_max_num_queries(8):
        queries, response = count_queries(client, path)
    assert _summary(response.data["results"]) == PATTERN[:2]

    bulk_items(release=release, count=198, contributor=contributor, approvers=approvers)
    with django_assert_num_queries(queries):
        response = client.get(path)
    assert response.status_code == 200
    assert response.data["count"] == 200
    assert _summary(response.data["results"]) == PATTERN * 50
    readiness = api(manager).get(f"{API}/releases/{release.pk}/").data
    assert (readiness["required_total"], readiness["required_ready"], readiness["readiness"]) == (200, 100, 50)


def test_filtered_checklist_costs_the_same_for_200_items_as_for_2(
    api, release, manager, contributor, approvers, django_assert_num_queries
):
    bulk_items(release=release, count=2, contributor=contributor, approvers=approvers)
    client = api(manager)
    path = f"{API}/releases/{release.pk}/items/?page_size=200&state=done&assignee={contributor.pk}"
    queries, response = count_queries(client, path)
    assert response.data["count"] == 2
    bulk_items(release=release, count=198, contributor=contributor, approvers=approvers)
    with django_assert_num_queries(queries):
        response = client.get(path)
    assert response.data["count"] == 150


def test_item_costs_the_same_with_10_signoffs_as_with_1(
    api, make_item, done, manager, contributor, approvers, django_assert_num_queries
):
    item = done(make_item(title="Regression tests", assignee=contributor, signoffs=3))
    signoff_grant(item=item, actor=approvers[0], decision="approve")
    client = api(manager)
    path = f"{API}/items/{item.pk}/"
    queries, response = count_queries(client, path)
    assert len(response.data["signoffs"]) == 1

    for approver in approvers[1:5]:
        signoff_grant(item=item, actor=approver, decision="approve")
    item = item_update(item=item, actor=contributor, evidence_url="https://ci.example.com/build/2")  # 5 go stale
    mine = [signoff_grant(item=item, actor=approver, decision="approve") for approver in approvers[:3]]
    signoff_revoke(signoff=mine[1], actor=approvers[1], reason="Looked at the wrong build.")
    signoff_grant(item=item, actor=approvers[5], decision="reject", comment="The report is missing.")
    item = done(item, evidence_url="https://ci.example.com/build/3")  # reworked: 2 approvals and the rejection stale
    signoff_grant(item=item, actor=approvers[6], decision="approve")

    with django_assert_num_queries(queries):
        response = client.get(path)
    assert response.status_code == 200
    signoffs = response.data["signoffs"]
    assert len(signoffs) == 10
    assert [s["decision"] for s in signoffs].count("reject") == 1
    assert sum(s["revoked"] for s in signoffs) == 1
    assert sum(s["stale"] for s in signoffs) == 9  # all but the newest approval, the revoked one too
    assert [s["counts"] for s in signoffs] == [False] * 9 + [True]
    assert (response.data["valid_approvals"], response.data["is_signed"]) == (1, False)
