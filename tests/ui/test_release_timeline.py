"""The release page's timeline: newest first, paginated, filtered by what events are about."""

import pytest

pytestmark = pytest.mark.django_db


def test_timeline_filters_by_kind_and_pages(client, scenario, release, make_item, contributor, qa, manager, done):
    items = [make_item(title=f"Check {n}", assignee=contributor) for n in range(12)]
    for item in items:
        done(item)
    scenario.signoff(items[0], by=qa)
    client.force_login(manager)
    page = client.get(f"/releases/{release.pk}/").content.decode()
    assert "Page 1 of" in page
    only_signoffs = client.get(f"/releases/{release.pk}/?kind=signoff&part=audit", HTTP_HX_REQUEST="true")
    text = only_signoffs.content.decode()
    assert 'id="audit"' in text
    assert "<html" not in text
    assert "Sign-off approved" in text
    assert "Item status changed" not in text
    releases_only = client.get(f"/releases/{release.pk}/?kind=release").content.decode()
    timeline = releases_only[releases_only.index('id="audit"') :]
    assert "Release in progress" in timeline
    assert "Item added" not in timeline
