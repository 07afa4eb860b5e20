"""The sign-off queue's forms: its filters, and the approve / reject of the selected items."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import SignOff

_ID = re.compile(r"^\d{1,18}$")

# An item ticked, and the approver the person signs it for as their delegate (None: themselves).
Selection = tuple[int, int | None]


class SelectionField(forms.Field):
    """The ticked items' ids, in the order given, once each."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Select at least one item."),
        "invalid": _("The selection is not one this page offers; reload the page."),
    }

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        out: list[int] = []
        for raw in value if isinstance(value, list | tuple) else [value]:
            if not _ID.match(str(raw)):
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            if int(raw) not in out:
                out.append(int(raw))
        return out


class QueueActionForm(forms.Form):
    selected = SelectionField()
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Goes with each sign-off; required to reject."),
    )
    decision = forms.ChoiceField(
        choices=[(SignOff.Decision.APPROVE, _("Approve")), (SignOff.Decision.REJECT, _("Reject"))]
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == SignOff.Decision.REJECT and not (data.get("comment") or "").strip():
            self.add_error("comment", _("Say why you reject the selected items."))
        return data

    def signing_as(self, item_id: int) -> int | None:
        """The approver the person chose to sign the item for (the row's `as-<id>`), or None."""
        raw = str(self.data.get(f"as-{item_id}", "") or "")
        return int(raw) if _ID.match(raw) else None

    def selection(self) -> list[Selection]:
        return [(pk, self.signing_as(pk)) for pk in self.cleaned_data["selected"]]


class QueueFilterForm(forms.Form):
    """Narrows the queue to one release or one approver role; an unknown value narrows nothing."""

    release = forms.IntegerField(required=False, min_value=1)
    role = forms.IntegerField(required=False, min_value=1)

    def value(self, name: str) -> int | None:
        self.is_valid()  # the fields that are valid are in cleaned_data
        value = self.cleaned_data.get(name)
        return value if isinstance(value, int) else None
