"""{% manages_audiences as flag %}: whether the navigation shows "Audiences"."""

from __future__ import annotations

from typing import Any

from django import template

from ..permissions import manages_any_audience

register = template.Library()


@register.simple_tag(takes_context=True)
def manages_audiences(context: Any) -> bool:
    request = context.get("request")
    return manages_any_audience(getattr(request, "user", None))
