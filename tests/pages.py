"""Walking a cursor-paginated API list the way an integrator does: by its links."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext


def get_ok(client, url, params=None) -> dict:
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:500]
    return response.json()


def walk(client, url: str, params: dict | None = None) -> list[list[int]]:
    """Every page's ids, first to last, following ``next``; then back from the last
    page by ``previous``, which must give the same pages in reverse."""
    page = get_ok(client, url, params)
    assert set(page) == {"next", "previous", "results"}, "a cursor list has no count"
    assert page["previous"] is None
    pages = [[row["id"] for row in page["results"]]]
    forward = [page]
    while page["next"]:
        page = get_ok(client, page["next"])
        pages.append([row["id"] for row in page["results"]])
        forward.append(page)
        assert len(pages) < 1000, "the cursor does not advance"
    back = [pages[-1]]
    while page["previous"]:
        page = get_ok(client, page["previous"])
        back.append([row["id"] for row in page["results"]])
        assert len(back) <= len(pages), "previous walks past the first page"
    assert back == pages[::-1], "previous does not give the same pages back"
    return pages


def flat(pages: list[list[int]]) -> list[int]:
    return [row for page in pages for row in page]


def list_queries(client, url: str, params: dict | None = None) -> list[str]:
    """The SQL of one list request."""
    with CaptureQueriesContext(connection) as queries:
        get_ok(client, url, params)
    return [query["sql"] for query in queries.captured_queries]


def counts_rows(sql: list[str]) -> list[str]:
    return [query for query in sql if "count(" in query.lower()]
