"""The release list, the release page and the item page cost the same number of queries
however much data they show (5 vs 200 releases, 5 vs 300 items, 1 vs 10 sign-offs)."""

import pytest

from tests.api_fixtures import bulk_items, bulk_releases

pytestmark = pytest.mark.django_db


def _queries(client, path, django_assert_max_num_queries, limit):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with django_assert_max_num_queries(limit), CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(ctx.captured_queries), response


@pytest.fixture
def approvers(scenario, project, qa, qa2):
    return [qa, qa2, scenario.join(project, scenario.person("qa3", roles=["QA"]))]


def test_release_list_page_is_flat(client, scenario, project, manager, contributor, approvers,
                                   django_assert_max_num_queries):  # fmt: skip
    templates = [scenario.template("release-readiness")]
    made = bulk_releases(project=project, count=5, managers=[manager], stakeholders=[], templates=templates,
                         contributor=contributor, approvers=approvers)  # fmt: skip
    client.force_login(manager)
    few, _ = _queries(client, "/releases/", django_assert_max_num_queries, 12)
    bulk_releases(project=project, count=195, managers=[manager], stakeholders=[], templates=templates,
                  contributor=contributor, approvers=approvers, start=len(made))  # fmt: skip
    many, response = _queries(client, "/releases/?mine=on&state=in_progress", django_assert_max_num_queries, 12)
    assert many <= few + 1  # the filters add one subquery, not a query per row
    assert response.content.decode().count('class="bar"') == 25  # a page of 25


def test_release_page_is_flat(client, release, manager, contributor, approvers, django_assert_max_num_queries):
    bulk_items(release=release, count=5, contributor=contributor, approvers=approvers)
    client.force_login(manager)
    path = f"/releases/{release.pk}/"
    few, _ = _queries(client, path, django_assert_max_num_queries, 30)
    bulk_items(release=release, count=295, contributor=contributor, approvers=approvers)
    many, response = _queries(client, path, django_assert_max_num_queries, 30)
    assert many == few
    assert response.content.decode().count('class="item-row"') == 300
    live, _ = _queries(client, f"/releases/{release.pk}/live/?v=0", django_assert_max_num_queries, 30)
    assert live <= many


def test_release_page_poll_is_one_read_when_nothing_changed(client, release, manager, django_assert_max_num_queries):
    from releases.selectors import release_version

    client.force_login(manager)
    path = f"/releases/{release.pk}/live/?v={release_version(release.pk)}"
    with django_assert_max_num_queries(6):  # session, user, profile, the access check, the version
        response = client.get(path)
    assert response.status_code == 204


def test_item_page_is_flat(client, release, manager, contributor, approvers, django_assert_max_num_queries):
    [item] = bulk_items(release=release, count=1, contributor=contributor, approvers=approvers)
    client.force_login(approvers[1])
    few, _ = _queries(client, f"/items/{item.pk}/", django_assert_max_num_queries, 30)
    [busy] = bulk_items(release=release, count=1, contributor=contributor, approvers=approvers)
    for _ in range(3):
        bulk_items(release=release, count=1, contributor=contributor, approvers=approvers)
    many, _ = _queries(client, f"/items/{busy.pk}/", django_assert_max_num_queries, 30)
    assert many == few
