"""The form that names a delegate (the delegations page)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import Group, User
from django.utils.translation import gettext_lazy as _

DATETIME_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class DelegationForm(forms.Form):
    delegate = forms.CharField(
        label=_("Delegate"), max_length=150, help_text=_("Their username; they must hold the role too.")
    )
    role = forms.ModelChoiceField(label=_("Role"), queryset=Group.objects.none(), empty_label=None)
    starts_at = forms.DateTimeField(label=_("From"), widget=DATETIME_LOCAL, help_text=_("In your time zone."))
    ends_at = forms.DateTimeField(label=_("Until"), widget=DATETIME_LOCAL)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = user.groups.order_by("name")  # type: ignore[attr-defined]

    def clean_delegate(self) -> User:
        username = self.cleaned_data["delegate"].strip()
        found = User.objects.filter(username=username, is_active=True).first()
        if found is None:
            raise forms.ValidationError(_("Nobody is called %(username)s.") % {"username": username})
        return found
