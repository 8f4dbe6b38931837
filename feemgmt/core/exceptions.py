"""Errors raised by services.

A service checks its rules before writing and raises :class:`BusinessError` with a
message per field, so the API answers 400 with the same shape DRF uses for its own
validation errors and the admin shows the message next to the field. Nothing is
written when one is raised: every service runs in one transaction.
"""

from __future__ import annotations

from typing import Any


class BusinessError(Exception):
    """A rule of the domain refused the operation.

    ``detail`` is either a message, or a mapping of field name to a list of
    messages (nested lists/dicts for nested input such as a contract's fees).
    """

    default_code = "invalid"

    def __init__(self, detail: str | dict[str, Any], code: str | None = None):
        self.detail = detail
        self.code = code or self.default_code
        super().__init__(str(detail))

    def messages(self) -> list[str]:
        """Every message, flattened, for places that show a plain list."""
        out: list[str] = []

        def walk(value):
            if isinstance(value, dict):
                for item in value.values():
                    walk(item)
            elif isinstance(value, list | tuple):
                for item in value:
                    walk(item)
            elif value:
                out.append(str(value))

        walk(self.detail)
        return out


class InvalidTransition(BusinessError):
    """A state machine does not allow this change from the current status."""

    default_code = "invalid_transition"
