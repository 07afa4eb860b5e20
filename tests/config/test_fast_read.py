"""The read serializers' fast path (config.fastread) writes exactly what DRF's own
to_representation writes, for every list and detail the API serves."""

import pytest
from rest_framework import serializers

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


class _Row:
    name = "n"
    parts = ("a", "b")


class _Part(FastRead, serializers.Serializer):
    text = serializers.SerializerMethodField()

    def get_text(self, obj):
        return f"{obj}{self.context.get('suffix', '')}"


class _Whole(FastRead, serializers.Serializer):
    name = serializers.CharField()
    seen = serializers.SerializerMethodField()

    def get_seen(self, obj):
        return self.context["suffix"]


class _WithParts(_Whole):
    parts = _Part(many=True)


def test_a_plan_is_shared_and_method_fields_see_the_serializer_in_use():
    """The plan is made once per class; a method field reads the context of the serializer
    that is writing (each request's own); a nested serializer may not read one (the plan's
    nested serializer is shared by every request: an error, not another request's value)."""
    assert _Whole(_Row(), context={"suffix": "1"}).data == {"name": "n", "seen": "1"}
    assert _Whole(_Row(), context={"suffix": "2"}).data == {"name": "n", "seen": "2"}
    with pytest.raises(AssertionError, match="shared by every request"):
        _WithParts(_Row(), context={"suffix": "3"}).data  # noqa: B018
