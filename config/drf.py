"""The REST framework classes named in settings (pagination, parsing, authentication). A
module of their own: DRF imports them at start-up, before views can be imported."""

from __future__ import annotations

import functools
import re
from typing import Any

from django.core.paginator import Page
from django.core.paginator import Paginator as DjangoPaginator
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, parsers
from rest_framework.pagination import PageNumberPagination

from config.sqlcache import Prepared, PreparedRows, countable, counted_page

TOKEN_KEY = re.compile(r"[0-9a-f]{40}")


class Paginator(DjangoPaginator):
    """Django's paginator; a page is read with the count of the whole list in the same
    statement (config.sqlcache: counted_page) where the list allows it. What can't be
    answered that way (an empty page past the first, `last`, a number that isn't one) goes
    Django's way: the count first, then the page."""

    def page(self, number: Any) -> Page:
        rows = self.object_list
        counted = rows.counted_page if isinstance(rows, PreparedRows) else None
        if counted is None and isinstance(rows, QuerySet) and countable(rows):
            counted = functools.partial(counted_page, rows)
        if counted is not None and "count" not in self.__dict__ and not self.orphans:
            text = str(number)
            wanted = int(text) if text.isascii() and text.isdigit() else 0
            if wanted >= 1 and wanted * self.per_page < 2**62:
                found, total = counted(limit=self.per_page, offset=(wanted - 1) * self.per_page)
                if found or (wanted == 1 and self.allow_empty_first_page):
                    self.__dict__["count"] = total or 0  # the cached property: the whole list's count
                    return self._get_page(found, wanted, self)  # type: ignore[attr-defined]  # Django's own hook
        return super().page(number)


class Pagination(PageNumberPagination):
    """Lists: `?page=` and `?page_size=` (up to 200)."""

    django_paginator_class = Paginator
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        """A page that isn't a number is bad input (400); a number past the end is 404."""
        page = request.query_params.get(self.page_query_param)
        if page not in (None, "") and page not in self.last_page_strings and not (page.isascii() and page.isdigit()):
            raise exceptions.ValidationError({self.page_query_param: ["A page number: 1, 2, 3, …"]})
        return super().paginate_queryset(queryset, request, view)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a body nested too deeply for Python's decoder is bad input, not a crash."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the document is nested too deeply.") from None


def _token_query(key: None, token_key: str) -> Any:
    # The model is read when the query is first compiled: DRF imports this module early.
    model = authentication.TokenAuthentication.model or authentication.TokenAuthentication().get_model()
    return model.objects.select_related("user").filter(key=token_key)[:1]


# The token and its user, as DRF reads them, compiled once (config.sqlcache).
_TOKEN = Prepared(_token_query, arity=1)


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication; a key that can't be a token is refused before the lookup
    (a NUL in it would otherwise reach the database). The lookup is DRF's query, compiled
    once per process."""

    def authenticate_credentials(self, key: str) -> Any:
        if not TOKEN_KEY.fullmatch(key):
            raise exceptions.AuthenticationFailed("Invalid token.")
        token = _TOKEN.first(None, key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)
