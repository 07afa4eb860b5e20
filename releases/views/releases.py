"""Browser pages of releases: the list, new and edit, and the release page with its
go/no-go panel, transitions, phases, checklist, template upgrades and audit timeline.

The release page keeps itself current by polling `release_live` with the version it shows
(the newest audit event's id: every change is audited); nothing changed costs one indexed
read and a 204."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from approvals.models import ChecklistItem
from approvals.selectors import checklist_overview
from approvals.services import release_template_upgrade
from checklists.models import Category
from config.domain import DomainError, Forbidden
from config.web import AuthedRequest, dry_run, failure_messages, form_errors, page
from notifications.selectors import failed_deliveries
from notifications.services.announcements import announcement_kinds

from .. import permissions, selectors, services
from ..forms import PhaseForm, PhaseTransitionForm, ReleaseFilterForm, ReleaseForm, TransitionForm
from ..models import Release
from ..readiness import approval_failures
from ..services.transitions import TRANSITIONS
from ..state import require_not_closed
from .checklist_rows import checklist_rows

PAGE_SIZE = 25
AUDIT_PAGE_SIZE = 20
# The checklist's filters: (item, the viewer's id, the ids of the roles they hold) -> shown.
CHECKLIST_FILTERS = {
    "mine": lambda item, me, roles: item.assignee_id == me,
    "open": lambda item, me, roles: not item.is_ready,
    "overdue": lambda item, me, roles: bool(item.overdue),
    "waiting": lambda item, me, roles: item.state in item.FINISHED_STATES and not item.is_signed
    and item.approver_role_id in roles,
    "blocked": lambda item, me, roles: item.state == ChecklistItem.State.BLOCKED,
}  # fmt: skip


# --- list ----------------------------------------------------------------------------------


def _filtered(request: AuthedRequest, form: ReleaseFilterForm) -> QuerySet[Release]:
    qs = selectors.release_list(user=request.user)
    if not form.is_valid():
        return qs
    data = form.cleaned_data
    if data["search"]:
        qs = qs.filter(selectors.release_search_q(data["search"]))
    if data["state"]:
        qs = qs.filter(state=data["state"])
    if data["project"]:
        qs = qs.filter(project=data["project"])
    if start := form.local_day_start(data["go_live_from"]):
        qs = qs.filter(go_live_at__gte=start)
    if end := form.local_day_start(data["go_live_to"], next_day=True):
        qs = qs.filter(go_live_at__lt=end)
    if data["mine"]:
        qs = qs.filter(pk__in=permissions.releases_managed_by(request.user).values("pk"))
    return qs


@page
def release_list(request: AuthedRequest) -> HttpResponse:
    form = ReleaseFilterForm(request.GET or None, projects=selectors.projects_for(request.user))
    releases = Paginator(_filtered(request, form), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "releases/release_list.html",
        {
            "form": form,
            "releases": releases,
            "query": query.urlencode(),
            "can_create": selectors.projects_administered_by(request.user).exists(),
        },
    )


# --- new and edit --------------------------------------------------------------------------


def _create(request: AuthedRequest, form: ReleaseForm) -> Release:
    return services.release_create(actor=request.user, project=form.cleaned_data["project"], **form.service_fields())


@page
def release_new(request: AuthedRequest) -> HttpResponse:
    projects = selectors.projects_administered_by(request.user)
    if not projects.exists():
        raise Forbidden(_("You administer no project, so you can't create releases. A project administrator can."),
                        code="not_project_admin")  # fmt: skip
    form = ReleaseForm(request.POST or None, projects=projects)
    if request.method == "POST" and form.is_valid():
        try:
            release = _create(request, form)
        except DomainError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Release %(name)s created.") % {"name": release.name})
            return redirect("release-detail", pk=release.pk)
    return render(request, "releases/release_form.html", {"form": form, "release": None})


@page
@require_POST
def release_preview(request: AuthedRequest) -> HttpResponse:
    """The items and due dates the new release would get (the real service, rolled back)."""
    form = ReleaseForm(request.POST, projects=selectors.projects_administered_by(request.user))
    items: list[ChecklistItem] = []
    problems: list[str] = []
    if form.is_valid():
        try:
            items = dry_run(lambda: list(_create(request, form).items.order_by("order", "id")))
        except DomainError as error:
            problems = failure_messages(error)
    else:
        problems = [str(message) for errors in form.errors.values() for message in errors]
    return render(request, "releases/release_form.html#preview", {"items": items, "problems": problems})


@page
def release_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    release = _release(request, pk, manage=True)
    try:
        require_not_closed(release)
    except DomainError as error:  # a closed release offers no Edit; a bookmark says why
        _refused(request, error)
        return redirect("release-detail", pk=release.pk)
    form = ReleaseForm(request.POST or None, projects=selectors.projects_for(request.user), editing=release,
                       initial=ReleaseForm.initial_for(release))  # fmt: skip
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        applied = [use.template_id for use in release.template_uses]  # type: ignore[attr-defined]
        fields["templates"] = list(dict.fromkeys([*applied, *fields["templates"]]))
        try:
            services.release_update(release=release, actor=request.user, **fields)
        except DomainError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Release saved."))
            return redirect("release-detail", pk=release.pk)
    return render(request, "releases/release_form.html", {"form": form, "release": release})


# --- the release page ----------------------------------------------------------------------


def _release(request: AuthedRequest, pk: int, *, manage: bool = False) -> Release:
    found = permissions.access_release(request.user, pk, manage=manage, queryset=selectors.releases_full())
    return selectors.with_details([found])[0]


def _checklist(release: Release, user: Any, show: str, items_path: str) -> list[dict[str, Any]]:
    """The checklist grouped by category, each with its progress (required items ready of
    required items), narrowed to `show` (one of CHECKLIST_FILTERS) when given."""
    roles = set(user.groups.values_list("pk", flat=True)) if show == "waiting" else set()
    keep = CHECKLIST_FILTERS.get(show)
    groups: dict[str, list[ChecklistItem]] = defaultdict(list)
    for item in checklist_overview(release.pk):
        groups[item.category].append(item)
    labels = dict(Category.choices)
    out = []
    for category in [c for c in Category.values if c in groups]:
        items = groups[category]
        required = [i for i in items if i.required]
        shown = [i for i in items if keep is None or keep(i, user.pk, roles)]
        if shown:
            out.append({
                "category": category, "label": labels[category], "rows": checklist_rows(shown, items_path),
                "ready": sum(1 for i in required if i.is_ready), "required": len(required),
            })  # fmt: skip
    return out


def _live_context(request: AuthedRequest, release: Release) -> dict[str, Any]:
    """What the parts that keep themselves current show (readiness, state, the go/no-go
    panel, the checklist), for the page and for its poll alike."""
    failures = []
    if release.state in (Release.State.DRAFT, Release.State.IN_PROGRESS):
        failures = approval_failures(release, actor=request.user, override_freeze=False, reason="")
    items_path = reverse("item-detail", kwargs={"pk": 0}).removesuffix("0/")  # + "<id>/": one reverse a page
    show = request.GET.get("show", "")
    return {
        "release": release,
        "failures": failures,
        "freeze_only": bool(failures) and all(f["code"] == "freeze_window" for f in failures),
        "can_override": permissions.can_override_freeze(request.user),
        "version": selectors.release_version(release.pk),
        "items_path": items_path,
        "is_manager": request.user.pk in release.manager_ids,  # type: ignore[attr-defined]
        "checklist": _checklist(release, request.user, show, items_path),
        "show": show,
        "filters": _checklist_filter_labels(),
        "now": timezone.now(),
        "transitions": _transitions(release),
    }


@page
def release_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    release = _release(request, pk)
    people = selectors.usernames([*release.manager_ids, *release.stakeholder_ids])  # type: ignore[attr-defined]
    kind = request.GET.get("kind", "")
    events = selectors.audit_for_release(release)
    if kind in AUDIT_KINDS:
        events = events.filter(action__startswith=f"{kind}.")
    audit = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("audit"))
    context = {
        **_live_context(request, release),
        "managers": [people.get(pk, "?") for pk in release.manager_ids],  # type: ignore[attr-defined]
        "stakeholders": [people.get(pk, "?") for pk in release.stakeholder_ids],  # type: ignore[attr-defined]
        # Only its managers can act on a newer template version: others aren't shown the card.
        "upgrades": selectors.template_upgrades(release)
        if release.checklist_upgradable and request.user.pk in release.manager_ids  # type: ignore[attr-defined]
        else [],
        "audit": audit,
        "kind": kind,
        "audit_kinds": _audit_kinds(),
        "failed_deliveries": _failed_deliveries(request, release),
        "may_announce": bool(announcement_kinds(release)),
    }
    if request.htmx and request.GET.get("part") == "audit":
        return render(request, "releases/release_detail.html#audit", context)
    return render(request, "releases/release_detail.html", context)


def _failed_deliveries(request: AuthedRequest, release: Release) -> list[Any]:
    """The release's managers see what could not be told (the newest ten)."""
    if request.user.pk not in release.manager_ids:  # type: ignore[attr-defined]
        return []
    return list(failed_deliveries(release)[:10])


AUDIT_KINDS = ("release", "item", "signoff", "phase", "announcement", "report")


def _audit_kinds() -> list[tuple[str, str]]:
    """The timeline's filter: audit actions by what they are about."""
    labels = {
        "release": _("The release"),
        "item": _("Items"),
        "signoff": _("Sign-offs"),
        "phase": _("Phases"),
        "announcement": _("Announcements"),
        "report": _("Reports"),
    }
    return [("", _("Everything")), *((kind, labels[kind]) for kind in AUDIT_KINDS)]


def _checklist_filter_labels() -> list[tuple[str, str]]:
    return [
        ("", _("All")),
        ("mine", _("Mine")),
        ("open", _("Open")),
        ("overdue", _("Overdue")),
        ("waiting", _("Waiting for my sign-off")),
        ("blocked", _("Blocked")),
    ]


def _transitions(release: Release) -> list[tuple[str, str, bool]]:
    """The moves a release manager can ask for from here: (state, button label, needs a reason)."""
    s = Release.State
    labels: dict[str, tuple[str, bool]] = {
        s.IN_PROGRESS: (_("Reopen for work") if release.state == s.APPROVED else _("Start work"), False),
        s.LIVE: (_("Go live now"), False),
        s.CANCELLED: (_("Cancel the release"), True),
        s.ROLLED_BACK: (_("Roll back"), True),
        s.COMPLETED: (_("Complete"), False),
    }
    return [(to, *labels[to]) for to in TRANSITIONS[release.state] if to in labels]


@page
def release_live(request: AuthedRequest, pk: int) -> HttpResponse:
    """The poll of the release page: 204 while nothing changed, else the parts that changed
    (readiness, go/no-go panel, checklist), swapped in place (htmx out-of-band)."""
    found = permissions.access_release(request.user, pk, queryset=selectors.releases_full())
    if str(selectors.release_version(pk)) == request.GET.get("v"):
        return HttpResponse(status=204)
    context = _live_context(request, selectors.with_details([found])[0])
    return render(request, "releases/release_detail.html#live", context)


# --- writes from the release page ---------------------------------------------------------


def _refused(request: AuthedRequest, error: DomainError) -> None:
    for line in failure_messages(error):
        messages.error(request, line)


@page
@require_POST
def release_transition(request: AuthedRequest, pk: int) -> HttpResponse:
    release = _release(request, pk)
    form = TransitionForm(request.POST)
    if form.is_valid():
        try:
            moved = services.release_transition(release=release, actor=request.user, **form.cleaned_data)
        except DomainError as error:
            _refused(request, error)
        else:
            state = moved.get_state_display().lower()
            messages.success(request, _("The release is now %(state)s.") % {"state": state})
    else:
        messages.error(request, _("Choose a state."))
    return redirect("release-detail", pk=pk)


@page
@require_POST
def phase_create(request: AuthedRequest, pk: int) -> HttpResponse:
    release = _release(request, pk)
    form = PhaseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("A phase needs a name."))
        return redirect("release-detail", pk=pk)
    try:
        services.phase_create(release=release, actor=request.user, **form.cleaned_data)
    except DomainError as error:
        _refused(request, error)
    return redirect("release-detail", pk=pk)


@page
@require_POST
def phase_transition(request: AuthedRequest, pk: int, phase_pk: int) -> HttpResponse:
    phase = permissions.access_phase(request.user, phase_pk)
    form = PhaseTransitionForm(request.POST)
    if phase.release_id != pk or not form.is_valid():
        messages.error(request, _("Choose a phase state."))
        return redirect("release-detail", pk=pk)
    try:
        services.phase_transition(phase=phase, actor=request.user, to=form.cleaned_data["to"])
    except DomainError as error:
        _refused(request, error)
    return redirect("release-detail", pk=pk)


@page
def release_upgrade(request: AuthedRequest, pk: int, slug: str) -> HttpResponse:
    """GET: what upgrading the template would add, update, keep and remove (the real upgrade,
    rolled back); POST: upgrade."""
    release = _release(request, pk, manage=True)
    user = request.user

    def upgrade() -> dict[str, Any]:
        return release_template_upgrade(release=release, slug=slug, actor=user)

    if request.method == "POST":
        try:
            summary = upgrade()
        except DomainError as error:
            _refused(request, error)
        else:
            messages.success(request, _("Template upgraded to version %(v)s.") % {"v": summary.get("to_version", "")})
        return redirect("release-detail", pk=pk)
    try:
        summary = dry_run(upgrade)
    except DomainError as error:  # refused (a live or closed release, say): back to the release, saying why
        _refused(request, error)
        return redirect("release-detail", pk=pk)
    return render(request, "releases/release_upgrade.html", {"release": release, "slug": slug, "summary": summary})
