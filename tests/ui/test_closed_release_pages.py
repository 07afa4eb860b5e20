"""The release and item pages offer only what the services would do: a completed, cancelled or
rolled-back release offers no change at all (edit, phases, template upgrades, working,
assigning, revoking) and its item pages say why, once; an open release offers them, except a
production phase's start before the release is approved."""

import pytest

from checklists.selectors import template_export_data
from checklists.services import template_update
from releases import services
from releases.models import Phase, Release

pytestmark = pytest.mark.django_db

S = Release.State
EXTRA = {
    "slug": "closing-checks",
    "name": "Closing checks",
    "sections": [{"title": "Extra", "items": [
        {"key": "notes", "title": "Release notes written", "category": "deployment", "required": False,
         "required_signoffs": 0},
    ]}],
}  # fmt: skip
RELEASE_PAGE_OFFERS = ("/edit/", "Add phase", "Finish Staging", "Roll back Staging", "Newer template versions")
ITEM_PAGE_OFFERS = ("<h3>Work on it</h3>", "<h3>Assign</h3>", "Revoke my sign-off")
CLOSED_NOTE = "its checklist can"  # "…; its checklist can't change." (the apostrophe escaped or not)


@pytest.fixture
def signed(scenario, release, make_item, contributor, qa, done, staff):
    """The release with a template that has a newer version, a staging phase under way, a
    production phase waiting, and an item worked by the contributor and signed by qa."""
    template = scenario.custom_template(EXTRA)
    scenario.update(release, templates=[*release.applied_templates.values_list("slug", flat=True), template.slug])
    template_update(template=template, actor=staff, data={**template_export_data(template), "name": "Closing (2)"})
    staging = scenario.phase(release, "Staging", production=False)
    services.phase_transition(phase=staging, actor=scenario.u(scenario.manager), to=Phase.State.IN_PROGRESS)
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
    return [offer for offer in RELEASE_PAGE_OFFERS if offer in page], page


def _item_pages(client, item, *people):
    """What each person's item page offers, and how often each says the checklist is closed."""
    offers, notes = set(), set()
    for user in people:
        page = _page(client, user, f"/items/{item.pk}/")
        offers |= {offer for offer in ITEM_PAGE_OFFERS if offer in page}
        notes.add(page.count(CLOSED_NOTE))
    return offers, notes


def test_an_open_release_offers_its_changes(client, release, signed, manager, contributor, qa):
    offers, page = _release_page(client, manager, release)
    assert offers == list(RELEASE_PAGE_OFFERS)
    assert "data-countdown" in page  # the go-live ahead
    assert "Start Production" not in page  # refused until the release is approved
    assert "starts once the release is approved" in page
    assert _item_pages(client, signed, manager, contributor, qa) == (set(ITEM_PAGE_OFFERS), {0})
    services.release_transition(release=release, actor=manager, to=S.APPROVED)
    assert "Start Production" in _release_page(client, manager, release)[1]
    assert "Newer template versions" not in _page(client, qa, f"/releases/{release.pk}/")  # nothing qa can do


def _close(release, manager, path):
    for state in path:
        if state == S.COMPLETED:
            for phase in release.phases.order_by("order"):
                if phase.state == Phase.State.PENDING:
                    services.phase_transition(phase=phase, actor=manager, to=Phase.State.IN_PROGRESS)
                services.phase_transition(phase=phase, actor=manager, to=Phase.State.DONE)
        services.release_transition(release=release, actor=manager, to=state, reason="Because")
    release.refresh_from_db()
    assert release.is_closed


@pytest.mark.parametrize(
    "path", [[S.CANCELLED], [S.APPROVED, S.LIVE, S.COMPLETED], [S.APPROVED, S.LIVE, S.ROLLED_BACK]]
)
def test_a_closed_release_offers_none_and_says_why_once(client, release, signed, manager, contributor, qa, path):
    _close(release, manager, path)
    offers, page = _release_page(client, manager, release)
    assert offers == []
    assert "Start " not in page
    assert f"The release is {release.get_state_display().lower()}." in page
    assert "data-countdown" not in page  # nothing to count down to or from any more
    assert _item_pages(client, signed, manager, contributor, qa) == (set(), {1})


def test_a_bookmarked_edit_page_of_a_closed_release_goes_back_with_why(client, release, signed, manager):
    _close(release, manager, [S.CANCELLED])
    client.force_login(manager)
    response = client.get(f"/releases/{release.pk}/edit/", follow=True)
    assert response.redirect_chain == [(f"/releases/{release.pk}/", 302)]
    assert "The release is cancelled; it can&#x27;t change." in response.content.decode()


def test_the_upgrade_page_previews_on_an_open_release_and_goes_back_with_why_on_a_closed_one(
    client, release, signed, manager
):
    client.force_login(manager)
    upgrade = f"/releases/{release.pk}/upgrade/{EXTRA['slug']}/"
    preview = client.get(upgrade).content.decode()
    assert "From version 1 to 2." in preview
    _close(release, manager, [S.CANCELLED])
    response = client.get(upgrade, follow=True)
    assert response.redirect_chain == [(f"/releases/{release.pk}/", 302)]
    assert '<li class="message error">The release is cancelled.</li>' in response.content.decode()
