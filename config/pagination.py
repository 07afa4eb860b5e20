"""Lists: `?page=` and `?page_size=` (up to 200). Its own module: DRF imports it at start-up."""

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
