"""Reads compiled once per process (config.sqlcache) give what the ORM gives: the visible
releases, their count and pages, one release through access_release, for each kind of user."""

import pytest
from django.forms.models import model_to_dict

from config.domain import NotFound
from config.sqlcache import Prepared, countable, counted_page, together
from releases import permissions, selectors
from releases.models import Release

from .. import api_fixtures
from ..api_fixtures import API

api = api_fixtures.api
world = api_fixtures.world


def _rows(releases):
    return [(model_to_dict(r), r.project_name) for r in releases]


@pytest.fixture
def people(scenario, world, manager, contributor, outsider, staff):
    root = scenario.person("root", staff=True, superuser=True)
    scenario.create(world.project, "Second", "2.0", by=manager)
    return [manager, contributor, outsider, staff, root]


def test_the_release_list_and_one_release_read_as_the_orm_reads_them(people):
    for user in people:
        orm = list(selectors.release_list(user=user))
        rows = selectors.release_list_prepared(user=user)
        assert rows.count() == len(orm), user
        assert _rows(rows[0:50]) == _rows(orm), user
        assert _rows(rows[1:2]) == _rows(orm[1:2]), user
        for release in Release.objects.all():
            visible = [r for r in orm if r.pk == release.pk]
            if visible:
                got = permissions.access_release(user, release.pk, queryset=selectors.releases_full)
                assert _rows([got]) == _rows(visible)
            else:
                with pytest.raises(NotFound):
                    permissions.access_release(user, release.pk, queryset=selectors.releases_full)


def test_the_api_list_is_the_same_read_through_the_filters(api, people):
    for user in people:
        client = api(user)
        pages = ("?page_size=1", "?page_size=1&page=2", "?page_size=1&page=last", "?page_size=1&page=99", "?page=2", "")
        for page in pages:
            prepared = client.get(f"{API}/releases/{page}")
            filtered = client.get(f"{API}/releases/{page}{'&' if page else '?'}state=")  # a filter: the ORM's read
            assert prepared.status_code == filtered.status_code
            if prepared.status_code == 200:
                fast, orm = prepared.json(), filtered.json()
                assert (fast["count"], fast["results"]) == (orm["count"], orm["results"])
                assert bool(fast["next"]) == bool(orm["next"])
                assert bool(fast["previous"]) == bool(orm["previous"])
            else:
                assert prepared.json() == filtered.json()


def test_a_counted_page_is_the_page_and_the_count_in_one_query(people, django_assert_num_queries):
    for user in people:
        orm = list(selectors.release_list(user=user))
        rows = selectors.release_list_prepared(user=user)
        for offset in (0, 1, len(orm)):
            with django_assert_num_queries(1):
                found, total = rows.counted_page(limit=1, offset=offset)
            assert _rows(found) == _rows(orm[offset : offset + 1])
            assert total == (len(orm) if found else None)


def test_a_list_of_ids_is_one_parameter_and_may_be_empty(world):
    ids = Prepared(lambda key, pks: Release.objects.filter(pk__any=pks).order_by("pk"), arity=1)
    release = world.release
    assert [r.pk for r in ids.all(None, [release.pk, -1])] == [release.pk]
    assert ids.all(None, []) == []


def test_an_orm_page_carries_the_count_of_the_whole_list(people, django_assert_num_queries):
    for user in people:
        orm = selectors.release_list(user=user).order_by("pk")
        assert countable(orm)
        every = list(orm)
        for offset in (0, 1, len(every)):
            with django_assert_num_queries(1):
                found, total = counted_page(orm, limit=1, offset=offset)
            assert _rows(found) == _rows(every[offset : offset + 1])
            assert total == (len(every) if found else None)
    assert not countable(Release.objects.values("pk"))
    assert not countable(Release.objects.distinct())


def test_reads_sent_together_give_what_each_gives_alone(world, django_assert_num_queries):
    ids = Prepared(lambda key, pks: Release.objects.filter(pk__any=pks).order_by("pk"), arity=1)
    names = Prepared(lambda key, pks: Release.objects.filter(pk__any=pks).values_list("pk", "name"), arity=1)
    release = world.release
    alone = [
        [model_to_dict(r) for r in ids.all(None, [release.pk])],
        names.all(None, [release.pk]),
        ids.all(None, [-1]),
    ]
    with django_assert_num_queries(1):
        rows, named, none = together((ids, None, ([release.pk],)), (names, None, ([release.pk],)), (ids, None, ([-1],)))
    assert [[model_to_dict(r) for r in rows], named, none] == alone
