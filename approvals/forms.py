"""Browser forms of the item panel: shapes only; the item and sign-off services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from releases.forms import LocalDateTimeField

from .models import ChecklistItem, SignOff


class ItemWorkForm(forms.Form):
    """What the assignee (and a release manager) change while working an item."""

    state = forms.ChoiceField(label=_("Status"), choices=ChecklistItem.State.choices)
    justification = forms.CharField(
        label=_("Justification (when not applicable)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    blocked_reason = forms.CharField(
        label=_("What blocks it (when blocked)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    evidence_url = forms.CharField(label=_("Evidence link"), required=False, max_length=1000,
                                   widget=forms.URLInput(attrs={"placeholder": "https://"}))  # fmt: skip
    evidence_file = forms.FileField(label=_("Evidence file"), required=False)
    remove_evidence_file = forms.BooleanField(label=_("Remove the evidence file"), required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, has_file: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Interpolated per request, in the reader's language (at import, it would stay English).
        self.fields["evidence_file"].help_text = _(
            "Up to %(mb)s MB: PDF, image, text, CSV, JSON, ZIP, Word or Excel."
        ) % {"mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024)}
        if not has_file:
            del self.fields["remove_evidence_file"]

    @staticmethod
    def initial_for(item: ChecklistItem) -> dict[str, Any]:
        return {
            name: getattr(item, name) for name in ("state", "justification", "blocked_reason", "evidence_url", "note")
        }

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        upload, remove = data.pop("evidence_file"), data.pop("remove_evidence_file", False)
        if upload:
            data["evidence_file"] = upload
        elif remove:
            data["evidence_file"] = ""
        return data


class ItemManageForm(forms.Form):
    """What only a release manager changes: who has the item, and when it is due."""

    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        required=False,
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
    )
    due_at = LocalDateTimeField(label=_("Due"), required=False, help_text=_("In your time zone."))


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), max_length=10000, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Mention someone with @username."))  # fmt: skip


class SignOffForm(forms.Form):
    decision = forms.ChoiceField(choices=SignOff.Decision.choices, widget=forms.HiddenInput)
    comment = forms.CharField(label=_("Sign-off comment"), required=False, max_length=10000,
                              widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=_("Needed when you reject."))  # fmt: skip
    on_behalf_of = forms.ModelChoiceField(
        label=_("Sign on behalf of"), required=False, queryset=get_user_model().objects.none(), empty_label=_("myself")
    )

    def __init__(self, *args: Any, delegators: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if delegators is None:
            del self.fields["on_behalf_of"]
        else:
            self.fields["on_behalf_of"].queryset = delegators  # type: ignore[attr-defined]


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Why you revoke it"), max_length=10000)
