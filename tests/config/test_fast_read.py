"""The read serializers' fast path (config.fastread) writes exactly what DRF's own
to_representation writes, for every list and detail the API serves."""

import pytest

from config.fastread import FastRead

from .. import api_fixtures
from ..api_fixtures import API, bulk_items

api = api_fixtures.api
world = api_fixtures.world


@pytest.fixture
def approvers(scenario, project, qa, qa2):
    return [qa, qa2, scenario.join(project, scenario.person("approver0", roles=["QA"]))]


def test_every_read_is_what_drf_writes(api, world, manager, contributor, approvers, monkeypatch):
    bulk_items(release=world.release, count=8, contributor=contributor, approvers=approvers)
    release = world.release.pk
    paths = [
        "/releases/",
        f"/releases/{release}/",
        f"/releases/{release}/items/?page_size=200",
        f"/items/{world.item.pk}/",
        f"/releases/{release}/phases/",
        f"/releases/{release}/audit/",
        "/freeze-windows/",
        "/projects/",
        f"/projects/{world.project.pk}/members/",
    ]
    client = api(manager)
    fast = {path: client.get(API + path).json() for path in paths}
    fast["/delegations/"] = api(world.users["qa"]).get(f"{API}/delegations/").json()
    monkeypatch.delattr(FastRead, "to_representation")
    drf = {path: client.get(API + path).json() for path in paths}
    drf["/delegations/"] = api(world.users["qa"]).get(f"{API}/delegations/").json()
    for path, body in drf.items():
        assert fast[path] == body, path
    assert len(fast[f"/releases/{release}/items/?page_size=200"]["results"]) > 8
    assert any(s["stale"] for i in fast[f"/releases/{release}/items/?page_size=200"]["results"] for s in i["signoffs"])
