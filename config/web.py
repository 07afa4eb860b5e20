"""Glue between the services and the browser views (what config/api.py is for the API).

A browser view parses a form, reaches its object through an access helper, calls one
service and renders. The domain errors come back as what a person expects in a browser:
NotFound is the 404 page, Forbidden the 403 page, Invalid errors next to the form's fields,
Conflict a list of what stands in the way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponseBase
from django_htmx.middleware import HtmxDetails

from .domain import Conflict, DomainError, Forbidden, Invalid, NotFound


class AuthedRequest(HttpRequest):
    """What a view under @page gets: a signed-in user, and django-htmx's details."""

    user: User  # type: ignore[assignment]
    htmx: HtmxDetails


@contextmanager
def reached() -> Iterator[None]:
    """Around an access helper: NotFound is the 404 page, Forbidden the 403 page."""
    try:
        yield
    except NotFound as error:
        raise Http404(error.message) from error
    except Forbidden as error:
        raise PermissionDenied(error.message) from error


def page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A page for signed-in people, whose access errors become the 404 / 403 pages."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        with reached():
            return view(request, *args, **kwargs)

    return wrapped


def form_errors(form: forms.Form, error: DomainError) -> None:
    """A service's refusal shown on the form that asked: Invalid's field messages next to the
    fields the form has, everything else (and Conflict's list of unmet conditions) above it."""
    placed = False
    if isinstance(error, Invalid):
        for name, messages in error.fields.items():
            for message in messages:
                if name in form.fields:
                    form.add_error(name, message)
                    placed = True
                else:
                    form.add_error(None, message)
                    placed = True
    if isinstance(error, Conflict) and error.failures:
        for failure in error.failures:
            form.add_error(None, failure["message"])
        return
    if not placed:
        form.add_error(None, error.message)


def submitted(form: forms.Form, call: Callable[[dict[str, Any]], Any]) -> bool:
    """Whether the form is valid and the service (`call`, given the cleaned data) took it;
    when not, the reasons are on the form, to show it again with what was typed."""
    if not form.is_valid():
        return False
    try:
        call(form.cleaned_data)
    except DomainError as error:
        form_errors(form, error)
        return False
    return True


def failure_messages(error: DomainError) -> list[str]:
    """Every reason a service gave, as lines a person reads."""
    if error.failures:
        return [failure["message"] for failure in error.failures]
    field_messages = [m for messages in error.fields.values() for m in messages]
    return field_messages or [error.message]


class _DryRun(Exception):  # not an error: carries the result out of the rolled-back block
    def __init__(self, result: Any) -> None:
        self.result = result


def dry_run(call: Callable[[], Any]) -> Any:
    """What a service would do, without keeping it: the call runs in a transaction that is
    then rolled back (with its audit events and anything queued on commit). Previews use
    this, so that a preview and the real thing follow the same rules."""
    try:
        with transaction.atomic():
            raise _DryRun(call())
    except _DryRun as done:
        return done.result
