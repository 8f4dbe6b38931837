"""HTML to PDF with WeasyPrint, never touching the network.

The documents' templates carry their stylesheet inline and their text is set in
Noto Sans CJK SC, which fontconfig finds on the machine (Debian's
``fonts-noto-cjk``). Nothing else is needed, so the fetcher refuses every URL
but ``data:`` and files under this app's own ``static/documents/`` folder: a
customer name such as ``<img src="http://...">`` is escaped by the template
anyway, and even a template mistake cannot make rendering call out.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher

logger = logging.getLogger("documents.pdf")

STATIC_ROOT = (Path(__file__).resolve().parent / "static" / "documents").resolve()


class LocalOnlyFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves ``data:`` URLs and this app's static
    files, and refuses everything else (logged, and the resource left out)."""

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = Path(unquote(parts.path)).resolve()
            if path.is_relative_to(STATIC_ROOT) and path.is_file():
                return super().fetch(url, headers)
        logger.warning("refused to fetch %s while rendering a document", url)
        raise ValueError(f"documents are rendered without fetching {url}")


def html_to_pdf(html: str) -> bytes:
    """The PDF of an HTML document (relative URLs resolve into static/documents/)."""
    return HTML(
        string=html, base_url=STATIC_ROOT.as_uri() + "/", url_fetcher=LocalOnlyFetcher()
    ).write_pdf()


def render_pdf(template: str, context: dict) -> bytes:
    """Render a Django template to HTML, then to PDF."""
    return html_to_pdf(render_to_string(template, context))
