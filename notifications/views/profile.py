"""Browser pages: a person's profile (language, time zone), their API token and the secret
URL of their go-live calendar."""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework.authtoken.models import Token

from config.domain import DomainError
from config.web import form_errors, page

from ..calendar import feed_url
from ..forms import ProfileForm
from ..models import Profile
from ..services import api_token_issue, calendar_token_issue, calendar_token_rotate, profile_update

# The key of a token just made, kept in the session only until the page after the redirect
# shows it: the key is shown once, a reload shows that a token exists, not the key.
NEW_TOKEN_KEY = "profile_new_api_token"


@page
def profile(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    current = Profile.objects.filter(user=user).first()
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                saved = profile_update(
                    user=user,
                    actor=user,
                    language=form.cleaned_data["language"],
                    time_zone=form.cleaned_data["time_zone"],
                )
            except DomainError as error:
                form_errors(form, error)
            else:
                return _saved(request, saved)
    else:
        initial = {"language": current.language, "time_zone": current.time_zone} if current else {}
        form = ProfileForm(initial=initial)
    token = Token.objects.filter(user=user).only("created").first()
    context = {
        "form": form,
        "token": token,
        "new_token": request.session.pop(NEW_TOKEN_KEY, None),
        "calendar_url": feed_url(request, calendar_token_issue(user=user)),
    }
    return render(request, "notifications/profile.html", context)


def _saved(request: HttpRequest, saved: Profile) -> HttpResponse:
    """Back to the page, now in the chosen language; the language cookie follows the profile
    (the login page and a signed-out visit use it too)."""
    if saved.language:
        translation.activate(saved.language)
    messages.success(request, _("Your profile is saved."))
    response = redirect("profile")
    if saved.language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            saved.language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    else:
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
        )
    return response


@page
@require_POST
def token_issue(request: HttpRequest) -> HttpResponse:
    """Create the API token, or rotate it (the old one stops working at once)."""
    token = api_token_issue(user=cast(User, request.user), rotate=True)
    request.session[NEW_TOKEN_KEY] = token.key
    messages.success(request, _("Your new API token is made. Copy it now: it is shown only once."))
    return redirect("profile")


@page
@require_POST
def calendar_rotate(request: HttpRequest) -> HttpResponse:
    """A new secret calendar URL; the old one stops answering at once."""
    calendar_token_rotate(user=cast(User, request.user))
    messages.success(
        request,
        _("Your calendar URL is new: the old one no longer works. Subscribe your calendar to the new one."),
    )
    return redirect("profile")
