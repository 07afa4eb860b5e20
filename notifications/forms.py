"""Forms of a person's own settings (the profile page)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import CHOOSABLE_EVENTS, CRITICAL_EVENTS, Preference, time_zone_choices


def _languages() -> list[tuple[str, object]]:
    return [("", _("Browser default")), *settings.LANGUAGES]


def _time_zones() -> list[tuple[str, object]]:
    return [("", _("Server default (%(zone)s)") % {"zone": settings.TIME_ZONE}), *time_zone_choices()]


class ProfileForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), required=False, choices=_languages)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False, choices=_time_zones)


class PreferencesForm(forms.Form):
    """A choice per event; critical events are shown, fixed at "immediately"."""

    def __init__(self, *args: object, current: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for event in CHOOSABLE_EVENTS:
            critical = event in CRITICAL_EVENTS
            self.fields[str(event)] = forms.ChoiceField(
                label=event.label,
                choices=Preference.Mode.choices,
                initial=current.get(str(event), Preference.Mode.IMMEDIATE),
                disabled=critical,
                help_text=_("Critical: always told immediately.") if critical else "",
            )
