"""What a risk rule is: a code (the kind of alert it raises), the thresholds it
reads, and one set-based query that finds every subject over them.

A rule never writes: it returns findings, and risk.services.risk_evaluate raises
their alerts in bulk and resolves the open ones it no longer finds (docs/risk.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.functional import Promise


@dataclass(frozen=True)
class Finding:
    subject: str
    message: str
    customer_id: int | None = None


@dataclass(frozen=True)
class Check:
    """One evaluation's inputs: the rule's thresholds, the day (billing time zone),
    and, when an event started it, the scope it is limited to (ids by name, e.g.
    ``{"charge": [1, 2]}``); ``None`` means everything."""

    today: dt.date
    count: int | None = None
    days: int | None = None
    percent: Decimal | None = None
    scope: dict[str, list[int]] | None = None

    def ids(self, name: str) -> list[int] | None:
        """The ids of ``name`` the evaluation is limited to, or None for all."""
        if self.scope is None:
            return None
        return list(self.scope.get(name, []))


@dataclass(frozen=True)
class Rule:
    code: str
    description: Promise  # what it looks for, with its thresholds named N / X
    thresholds: tuple[str, ...]  # which of count / days / percent it reads
    find: Callable[[Check], Iterable[Finding]] | None
    # the scope names an event may limit it to (empty: only ever evaluated whole)
    scopes: tuple[str, ...] = field(default=())
    # a whole evaluation resolves the open alerts it no longer finds; a rule whose
    # finding cannot go away by itself (a charge already billed) leaves them to staff
    resolves: bool = True
    # the scope whose ids are the ids of the rule's subjects ("run" for "run:12"): an
    # evaluation limited to them also resolves the alerts about them it no longer finds
    subject_scope: str | None = None
    # the highest X% that makes sense (a rate cannot pass 100%); None: no bound
    percent_max: int | None = None
    # evaluated by another scheduled job, which hands its result in (audit chain)
    external: bool = False


def subject(kind: str, pk: int | str) -> str:
    return f"{kind}:{pk}"
