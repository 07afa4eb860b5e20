"""The app's URLs plus the bench's floors: a bare Django view (no database, no DRF), and two
views that show what the release list cannot do without: an authenticated DRF view that does
nothing, and the same view running the list's own queries (captured from one request of the
list by bench_api.py into LIST_SQL) and fetching their rows, with no rows built."""

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as app_urlpatterns

# The release list's queries after authentication, as one request sent them.
LIST_SQL: list[str] = []


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b'{"ok": true}', content_type="application/json")


class Authenticated(APIView):
    """The API's authentication and permission (settings' defaults), then nothing."""

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class ListQueries(APIView):
    def get(self, request: Request) -> Response:
        with connection.cursor() as cursor:
            for sql in LIST_SQL:
                cursor.execute(sql)
                cursor.fetchall()
                while cursor.nextset():
                    cursor.fetchall()
        return Response({"ok": True})


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/authenticated/", Authenticated.as_view()),
    path("bench/list-queries/", ListQueries.as_view()),
    *app_urlpatterns,
]
