"""The release list costs the same number of queries for 50 releases as for 2: readiness,
managers, stakeholders, phases and templates come with the list, not per release."""

import pytest

from .. import api_fixtures
from ..api_fixtures import API, bulk_releases, count_queries, mini_template_data

api = api_fixtures.api  # the fixture this module uses

LIST = f"{API}/releases/?page_size=100"


@pytest.fixture
def fill(scenario, project, manager, qa, qa2, contributor, staff):
    """fill(n): add n releases to the project, each with two managers, two stakeholders (of
    another project), two phases, two templates and three items with sign-offs."""
    qa3 = scenario.join(project, scenario.person("qa3", roles=["QA"]))
    stakeholders = [scenario.person(f"stakeholder{i}") for i in range(2)]
    scenario.project("Payments", "payments", members=stakeholders)
    templates = [scenario.custom_template(mini_template_data()), scenario.template("release-readiness")]
    made = []

    def add(count):
        made.extend(
            bulk_releases(
                project=project,
                count=count,
                managers=[manager, qa],
                stakeholders=stakeholders,
                templates=templates,
                contributor=contributor,
                approvers=[qa, qa2, qa3],
                start=len(made),
            )
        )
        return made

    add.stakeholders = stakeholders
    return add


def _check_rows(results, *, manager, qa, stakeholders):
    for row in results:
        assert row["project_name"] == "Billing"
        assert row["managers"] == sorted([manager.pk, qa.pk])
        assert sorted(row["stakeholders"]) == sorted(u.pk for u in stakeholders)
        assert [p["name"] for p in row["phases"]] == ["Staging", "Production"]
        assert [t["slug"] for t in row["templates"]] == ["api-mini", "release-readiness"]
        # Three required items: one done and signed, one with only a stale approval, one
        # back in progress after a rejection.
        assert (row["required_total"], row["required_ready"], row["readiness"]) == (3, 1, 33)


@pytest.mark.parametrize("who", ["manager", "stakeholder"])
def test_release_list_costs_the_same_for_50_releases_as_for_2(
    api, fill, manager, qa, who, django_assert_num_queries, django_assert_max_num_queries
):
    fill(2)
    user = manager if who == "manager" else fill.stakeholders[0]
    client = api(user)
    with django_assert_max_num_queries(10):
        queries, response = count_queries(client, LIST)
    assert response.data["count"] == 2
    _check_rows(response.data["results"], manager=manager, qa=qa, stakeholders=fill.stakeholders)

    fill(48)
    with django_assert_num_queries(queries):
        response = client.get(LIST)
    assert response.status_code == 200
    assert response.data["count"] == 50
    assert len(response.data["results"]) == 50
    _check_rows(response.data["results"], manager=manager, qa=qa, stakeholders=fill.stakeholders)


def test_filtered_release_list_costs_the_same_for_50_releases_as_for_2(api, fill, manager, django_assert_num_queries):
    fill(2)
    client = api(manager)
    path = f"{LIST}&state=in_progress&search=Release&project={fill(0)[0].project_id}"
    queries, response = count_queries(client, path)
    assert response.data["count"] == 2
    fill(48)
    with django_assert_num_queries(queries):
        response = client.get(path)
    assert response.data["count"] == 50


def test_release_detail_costs_the_same_as_in_a_small_project(api, fill, manager, django_assert_num_queries):
    first = fill(2)[0]
    client = api(manager)
    queries, response = count_queries(client, f"{API}/releases/{first.pk}/")
    assert response.data["readiness"] == 33
    fill(48)
    with django_assert_num_queries(queries):
        client.get(f"{API}/releases/{first.pk}/")
