"""Browser pages: releases."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from config.web import page


@page
def placeholder(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return render(request, "placeholder.html", {"title": "releases"})
