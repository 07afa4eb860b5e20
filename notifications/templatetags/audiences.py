"""{% manages_audiences as flag %}: whether the navigation shows "Audiences"."""

from __future__ import annotations

from typing import Any

from django import template

from ..permissions import manages_any_audience

register = template.Library()


@register.simple_tag(takes_context=True)
def manages_audiences(context: Any) -> bool:
    request = context.get("request")
    known = getattr(request, "manages_audiences", None)  # set by the middleware with the profile
    return known if known is not None else manages_any_audience(getattr(request, "user", None))
