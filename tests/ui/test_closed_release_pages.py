"""A completed, cancelled or rolled-back release changes no more: its pages offer none of the
changes the services would refuse (edit, phases, template upgrades, working, assigning,
revoking) and the item page says why. The same pages of an open release offer them."""

import pytest

from releases import services
from releases.models import Phase, Release

pytestmark = pytest.mark.django_db

OFFERS_ON_RELEASE_PAGE = ("/edit/", "Add phase", 'name="to" value="in_progress"')
OFFERS_ON_ITEM_PAGE = ("<h3>Work on it</h3>", "<h3>Assign</h3>", "Revoke my sign-off")


@pytest.fixture
def signed(scenario, release, make_item, contributor, qa, done):
    """A release with a pending phase and an item worked by the contributor and signed by qa."""
    scenario.phase(release, "Production")
    item = make_item(title="Security review", assignee=contributor)
    done(item)
    scenario.signoff(item, by=qa)
    return item


def _page(client, user, path):
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def _release_page(client, manager, release):
    page = _page(client, manager, f"/releases/{release.pk}/")
    return [offer for offer in OFFERS_ON_RELEASE_PAGE if offer in page]


def _item_pages(client, item, *people):
    """What each person's item page offers, and whether it says the checklist is closed."""
    offers, notes = set(), set()
    for user in people:
        page = _page(client, user, f"/items/{item.pk}/")
        offers |= {offer for offer in OFFERS_ON_ITEM_PAGE if offer in page}
        notes.add("its checklist can&#x27;t change" in page or "its checklist can't change" in page)
    return offers, notes


def test_an_open_release_offers_its_changes(client, release, signed, manager, contributor, qa):
    assert _release_page(client, manager, release) == list(OFFERS_ON_RELEASE_PAGE)
    assert _item_pages(client, signed, manager, contributor, qa) == (set(OFFERS_ON_ITEM_PAGE), {False})


S = Release.State


@pytest.mark.parametrize(
    "path", [[S.CANCELLED], [S.APPROVED, S.LIVE, S.COMPLETED], [S.APPROVED, S.LIVE, S.ROLLED_BACK]]
)
def test_a_closed_release_offers_none_and_says_why(client, release, signed, manager, contributor, qa, path):
    for state in path:
        if state == S.COMPLETED:
            for phase in release.phases.all():
                for step in (Phase.State.IN_PROGRESS, Phase.State.DONE):
                    services.phase_transition(phase=phase, actor=manager, to=step)
        services.release_transition(release=release, actor=manager, to=state, reason="Because")
    release.refresh_from_db()
    assert release.is_closed
    assert _release_page(client, manager, release) == []
    assert _item_pages(client, signed, manager, contributor, qa) == (set(), {True})
