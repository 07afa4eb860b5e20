"""The app's URLs plus the bench's floor: a bare Django view (no database, no DRF)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as app_urlpatterns


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b'{"ok": true}', content_type="application/json")


urlpatterns = [path("bench/bare/", bare), *app_urlpatterns]
