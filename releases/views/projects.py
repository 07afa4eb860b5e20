"""Browser pages: projects, the releases in them and their members. Members see a project;
its administrators add and remove members; staff create projects. Every write goes through
releases.services.projects."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from config.domain import DomainError, Forbidden, NotFound
from config.web import failure_messages, form_errors, page

from .. import permissions
from ..models import Project, ProjectMembership
from ..selectors import memberships_of, projects_for, projects_with_role, release_list
from ..services.projects import project_create, project_member_add, project_member_remove

ROLE_LABELS = {
    ProjectMembership.Role.MEMBER: gettext_lazy("Member"),
    ProjectMembership.Role.ADMIN: gettext_lazy("Administrator"),
}


class ProjectForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    slug = forms.CharField(
        label=gettext_lazy("Short name"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Lowercase letters, digits and hyphens; made from the name when empty."),
    )
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class MemberForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Username"), max_length=150)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=list(ROLE_LABELS.items()))

    def clean_username(self) -> User:
        username = self.cleaned_data["username"].strip()
        found = User.objects.filter(username=username, is_active=True).first()
        if found is None:
            raise forms.ValidationError(_("Nobody is called %(username)s.") % {"username": username})
        return found


@page
def project_list(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    can_create = permissions.can_create_project(user)
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and not can_create:
        raise Forbidden(_("Only administrators can create projects."), code="forbidden")
    if request.method == "POST" and form.is_valid():
        try:
            project = project_create(actor=user, **form.cleaned_data)
        except DomainError as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Project “%(name)s” created.") % {"name": project.name})
            return redirect("project-detail", pk=project.pk)
    projects = list(projects_for(user).only("name", "slug", "description"))
    for project in projects:
        project.my_role_label = ROLE_LABELS.get(project.my_role)  # type: ignore[attr-defined,call-overload]
    return render(request, "releases/projects.html", {"projects": projects, "form": form, "can_create": can_create})


def _detail(request: HttpRequest, project: Project, member_form: MemberForm | None = None) -> HttpResponse:
    user = cast(User, request.user)
    releases = release_list(user=user).filter(project=project).order_by("-go_live_at", "-id")
    members = list(memberships_of(project).only("role", "user__username", "user__first_name", "user__last_name"))
    for membership in members:
        membership.role_label = ROLE_LABELS.get(membership.role)  # type: ignore[attr-defined,call-overload]
    context = {
        "project": project,
        "my_role_label": ROLE_LABELS.get(project.my_role),  # type: ignore[attr-defined,call-overload]
        "releases": releases.only("name", "version", "state", "go_live_at", "readiness", "project_id"),
        "members": members,
        "can_admin": permissions.can_administer_project(user, project),
        "member_form": member_form or MemberForm(initial={"role": ProjectMembership.Role.MEMBER}),
    }
    return render(request, "releases/project_detail.html", context)


@page
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = permissions.access_project(request.user, pk, queryset=projects_with_role(request.user))
    return _detail(request, project)


@page
@require_POST
def project_member_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = cast(User, request.user)
    project = permissions.access_project(user, pk, admin=True, queryset=projects_with_role(user))
    form = MemberForm(request.POST)
    if form.is_valid():
        member, role = form.cleaned_data["username"], form.cleaned_data["role"]
        try:
            project_member_add(project=project, actor=user, user=member, role=role)
        except DomainError as error:
            form_errors(form, error)
        else:
            messages.success(
                request,
                _("%(username)s is now in the project as %(role)s.")
                % {"username": member.get_username(), "role": ROLE_LABELS[role]},
            )
            return redirect("project-detail", pk=project.pk)
    return _detail(request, project, member_form=form)


@page
@require_POST
def project_member_remove_view(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    user = cast(User, request.user)
    project = permissions.access_project(user, pk, admin=True)
    membership = memberships_of(project).filter(user_id=user_id).first()
    if membership is None:
        raise NotFound(_("Not a member of this project."), code="not_found")
    try:
        project_member_remove(project=project, actor=user, user=membership.user)
    except DomainError as error:
        for message in failure_messages(error):
            messages.error(request, message)
    else:
        messages.success(
            request, _("%(username)s is no longer in the project.") % {"username": membership.user.get_username()}
        )
    return redirect("project-detail", pk=project.pk)
