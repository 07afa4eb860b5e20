"""HTML to PDF with WeasyPrint, offline: nothing is fetched but local files and data: URLs
(the report's HTML holds its CSS and names the locally installed DejaVu fonts), so a report
never waits on the network nor leaks what it shows to another host."""

from __future__ import annotations

from typing import Any

from weasyprint import HTML
from weasyprint.urls import URLFetcher

ALLOWED_SCHEMES = ("file:", "data:")


class LocalOnlyFetcher(URLFetcher):
    """Refuses every URL but file: and data: (WeasyPrint then leaves the resource out)."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False, timeout=1)

    def fetch(self, url: str, headers: Any = None) -> Any:
        if not url.lower().startswith(ALLOWED_SCHEMES):
            raise ValueError(f"Not fetched (a report fetches nothing from the network): {url[:200]}")
        return super().fetch(url, headers)


def html_to_pdf(html: str) -> bytes:
    """The PDF of a complete HTML document whose resources are inline."""
    pdf = HTML(string=html, base_url=None, url_fetcher=LocalOnlyFetcher()).write_pdf()
    assert pdf is not None
    return bytes(pdf)
