"""Browser forms of releases: they check the shape of what was typed; the services decide
what it means (config/web.form_errors shows their refusals on the form)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from checklists.models import ChecklistTemplate, Flag

from .models import Phase, Project, Release


class ReleaseFilterForm(forms.Form):
    search = forms.CharField(label=_("Search"), required=False, max_length=200)
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("Any"))])
    project = forms.ModelChoiceField(label=_("Project"), required=False, queryset=Project.objects.none(),
                                     empty_label=_("Any"))  # fmt: skip
    go_live_from = forms.DateField(
        label=_("Go-live from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    go_live_to = forms.DateField(label=_("Go-live to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    mine = forms.BooleanField(label=_("Only releases I manage"), required=False)

    def __init__(self, *args: Any, projects: QuerySet[Project], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("Any")), *Release.State.choices]  # type: ignore[attr-defined]
        self.fields["project"].queryset = projects  # type: ignore[attr-defined]

    def local_day_start(self, day: dt.date | None, *, next_day: bool = False) -> dt.datetime | None:
        """A date typed in the viewer's time zone, as the instant its day starts (or the next)."""
        if day is None:
            return None
        if next_day:
            day += dt.timedelta(days=1)
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())


def _user_choices() -> QuerySet[Any]:
    return get_user_model().objects.filter(is_active=True).order_by("username")


class LocalDateTimeField(forms.DateTimeField):
    """A date and time typed in the viewer's time zone (the browser's datetime-local input)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


class ReleaseForm(forms.Form):
    """Creating and editing a release: what a release manager types."""

    project = forms.ModelChoiceField(label=_("Project"), queryset=Project.objects.none())
    name = forms.CharField(label=_("Name"), max_length=200)
    version = forms.CharField(label=_("Version"), max_length=100, required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    go_live_at = LocalDateTimeField(label=_("Go-live"), required=False, help_text=_("In your time zone."))
    window_end_at = LocalDateTimeField(label=_("Deployment window ends"), required=False)
    templates = forms.ModelMultipleChoiceField(
        label=_("Checklist templates"), required=False, queryset=ChecklistTemplate.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    flags = forms.MultipleChoiceField(
        label=_("Flags"), required=False, choices=Flag.choices, widget=forms.CheckboxSelectMultiple,
        help_text=_("Conditional checklist items come with their flag."),
    )  # fmt: skip
    managers = forms.ModelMultipleChoiceField(
        label=_("Other release managers"), required=False, queryset=_user_choices(),
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )  # fmt: skip
    stakeholders = forms.ModelMultipleChoiceField(
        label=_("Stakeholders"), required=False, queryset=_user_choices(),
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )  # fmt: skip
    stakeholder_emails = forms.CharField(
        label=_("Stakeholder e-mail addresses"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("People without an account: one address per line."),
    )  # fmt: skip
    git_ref = forms.CharField(label=_("Git tag or commit"), max_length=200, required=False)
    rollback_plan = forms.CharField(label=_("Rollback plan"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    allow_self_signoff = forms.BooleanField(
        label=_("Allow self sign-off (small teams: the assignee may sign their own item)"), required=False
    )

    def __init__(self, *args: Any, projects: QuerySet[Project], editing: Release | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects  # type: ignore[attr-defined]
        self.fields["templates"].queryset = ChecklistTemplate.objects.order_by("name", "-version")  # type: ignore[attr-defined]
        if editing is not None:
            del self.fields["project"]
            self.fields["templates"].help_text = _("Templates already applied stay; ticked new ones are added.")

    def clean_stakeholder_emails(self) -> list[str]:
        text = self.cleaned_data.get("stakeholder_emails") or ""
        return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]

    def service_fields(self) -> dict[str, Any]:
        """What the release services take, from what was typed."""
        data = dict(self.cleaned_data)
        data.pop("project", None)
        data["templates"] = [t.pk for t in data.get("templates") or []]
        data["managers"] = list(data.get("managers") or [])
        data["stakeholders"] = list(data.get("stakeholders") or [])
        return data

    @staticmethod
    def initial_for(release: Any) -> dict[str, Any]:
        return {
            "name": release.name, "version": release.version, "description": release.description,
            "go_live_at": release.go_live_at and timezone.localtime(release.go_live_at),
            "window_end_at": release.window_end_at and timezone.localtime(release.window_end_at),
            "flags": release.flags, "git_ref": release.git_ref, "rollback_plan": release.rollback_plan,
            "allow_self_signoff": release.allow_self_signoff,
            "stakeholder_emails": "\n".join(release.stakeholder_emails),
            "templates": [use.template_id for use in release.template_uses],
            "managers": release.manager_ids, "stakeholders": release.stakeholder_ids,
        }  # fmt: skip


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=Release.State.choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 2})
    )
    override_freeze = forms.BooleanField(label=_("Override the freeze window"), required=False)


class PhaseForm(forms.Form):
    name = forms.CharField(label=_("Phase name"), max_length=200)
    production = forms.BooleanField(label=_("Production"), required=False, initial=True)


class PhaseTransitionForm(forms.Form):
    to = forms.ChoiceField(choices=Phase.State.choices, widget=forms.HiddenInput)
