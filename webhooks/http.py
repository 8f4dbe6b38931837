"""The one module that speaks HTTP to the integrators' endpoints."""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests
from django.conf import settings


@dataclass(frozen=True)
class Answer:
    code: int | None  # None: no answer (timeout, refused connection)
    excerpt: str
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body``; redirects are not followed (an endpoint gives its final URL).
    Only the first ``WEBHOOK_RESPONSE_EXCERPT`` characters of the answer are read."""
    started = time.monotonic()
    limit = settings.WEBHOOK_RESPONSE_EXCERPT

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        with requests.post(
            url,
            data=body,
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT,
            allow_redirects=False,
            stream=True,
        ) as response:
            raw = response.raw.read(limit * 4, decode_content=True) or b""
            excerpt = raw.decode(response.encoding or "utf-8", errors="replace")[:limit]
            return Answer(response.status_code, excerpt, "", took())
    except requests.Timeout as exc:
        return Answer(None, "", f"timeout: {exc}"[:1000], took())
    except requests.RequestException as exc:
        return Answer(None, "", f"{type(exc).__name__}: {exc}"[:1000], took())
