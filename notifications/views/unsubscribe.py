"""The page an unsubscribe link opens: no sign-in needed, the signed link is the key. A GET
asks for confirmation (link scanners follow links; they must not unsubscribe anybody); a
POST, from the page's button or from a mail client's one-click (RFC 8058), unsubscribes."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from ..unsubscribe import UNSUBSCRIBE_HANDLERS, unsubscribe_read


@csrf_exempt  # a mail client's one-click POST carries no CSRF token; the signed link is the proof
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    found = unsubscribe_read(token)
    if found is None:
        raise Http404("Unknown unsubscribe link.")
    scope, value = found
    if request.method == "POST":
        UNSUBSCRIBE_HANDLERS[scope](value)
        return render(request, "notifications/unsubscribe.html", {"done": True, "scope": scope})
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    return render(request, "notifications/unsubscribe.html", {"done": False, "scope": scope})
