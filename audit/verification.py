"""Walking the chain: is every event still what was recorded?

Each event's hash is recomputed from its stored values, its ``prev_hash`` must be
the previous event's hash and sequences must follow without a gap. Bulk events
are checked against the rows they cover as they are now, so a charge amount
changed after the fact, or a row deleted, is found. Other apps add their own
invariants with :func:`register_check` (the ledger: every journal entry balances).

Events are streamed in sequence order, a chunk at a time, so memory stays the same
for a thousand events or a million. Problems after the first hundred are counted
but not kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .canonical import ZERO_HASH
from .models import AuditEvent
from .rows import ROW_DIGEST_CHARS, bulk_rows_digest

CHUNK_SIZE = 2000
MAX_PROBLEMS = 100
MAX_IDS_SHOWN = 20

_checks: dict[str, Callable[[], list[str]]] = {}


def register_check(name: str, fn: Callable[[], list[str]]) -> None:
    """Run ``fn`` on every verification; it returns problems (empty when all is
    well). Registering a name again replaces its check."""
    _checks[name] = fn


def unregister_check(name: str) -> None:
    _checks.pop(name, None)


@dataclass(frozen=True)
class Problem:
    sequence: int | None  # None for a registered check's problem
    message: str

    def __str__(self):
        if self.sequence is None:
            return self.message
        return _("audit chain broken at event %(sequence)d: %(problem)s") % {
            "sequence": self.sequence,
            "problem": self.message,
        }


@dataclass
class VerifyResult:
    count: int = 0
    head_sequence: int = 0
    head_hash: str = ZERO_HASH
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def first_broken(self) -> int | None:
        sequences = [p.sequence for p in self.problems if p.sequence is not None]
        return min(sequences) if sequences else None

    def add(self, sequence: int | None, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(sequence, message))

    def summary(self) -> str:
        if self.ok:
            return _("audit chain intact: %(count)d events, head %(sequence)d %(hash)s") % {
                "count": self.count,
                "sequence": self.head_sequence,
                "hash": self.head_hash,
            }
        return ngettext(
            "audit chain broken: %(count)d problem",
            "audit chain broken: %(count)d problems",
            self.problem_count,
        ) % {"count": self.problem_count}


def _ids_text(ids: list) -> str:
    shown = ", ".join(str(i) for i in ids[:MAX_IDS_SHOWN])
    return shown + (", …" if len(ids) > MAX_IDS_SHOWN else "")


def bulk_problem(bulk: dict) -> str | None:
    """What is wrong with the rows a bulk event covers, or None."""
    try:
        label, ids, fields = bulk["model"], list(bulk["ids"]), list(bulk["fields"])
        model = apps.get_model(label)
        digest, rows, missing = bulk_rows_digest(model, ids, fields)
    except (KeyError, TypeError, LookupError, ValueError, FieldDoesNotExist) as exc:
        return _("bulk rows cannot be read: %s") % exc
    if digest == bulk.get("digest") and not missing:
        return None
    if missing:
        return _("bulk digest differs: %(model)s rows deleted (ids %(ids)s)") % {
            "model": label,
            "ids": _ids_text(missing),
        }
    stored = bulk.get("row_digests", "")
    width = ROW_DIGEST_CHARS
    changed = [
        pk
        for index, pk in enumerate(ids)
        if stored[index * width : (index + 1) * width] != rows[index]
    ]
    if not changed:
        return _("bulk digest differs: %(model)s rows changed") % {"model": label}
    return _("bulk digest differs: %(model)s rows changed (ids %(ids)s)") % {
        "model": label,
        "ids": _ids_text(changed),
    }


def _verify_event(event: AuditEvent, previous: tuple[int, str] | None, result: VerifyResult):
    expected_sequence, expected_prev = (
        (previous[0] + 1, previous[1]) if previous else (1, ZERO_HASH)
    )
    if event.sequence != expected_sequence:
        if previous is None:
            result.add(expected_sequence, _("the chain starts at event %d") % event.sequence)
        else:
            result.add(expected_sequence, _("sequence gap after %d") % previous[0])
    if event.prev_hash != expected_prev:
        if previous is None:
            result.add(event.sequence, _("prev_hash does not link to the start of the chain"))
        else:
            result.add(event.sequence, _("prev_hash does not link to event %d") % previous[0])
    if event.compute_hash() != event.hash:
        result.add(event.sequence, _("hash does not match its contents"))
    if event.bulk is not None:
        problem = bulk_problem(event.bulk)
        if problem:
            result.add(event.sequence, problem)


def audit_chain_verify(*, expect_head: tuple[int, str] | None = None) -> VerifyResult:
    """Check the whole chain and every registered check.

    ``expect_head`` is an anchored (sequence, hash), e.g. from an auditors' e-mail:
    the chain must still hold that event with that hash, which catches a chain cut
    short or rewritten from some point on.
    """
    result = VerifyResult()
    previous: tuple[int, str] | None = None
    anchored = None
    events = AuditEvent.objects.order_by("sequence")
    for event in events.iterator(chunk_size=CHUNK_SIZE):
        _verify_event(event, previous, result)
        if expect_head and event.sequence == expect_head[0]:
            anchored = event.hash
        previous = (event.sequence, event.hash)
        result.count += 1
    if previous:
        result.head_sequence, result.head_hash = previous
    if expect_head:
        sequence, expected = expect_head
        if anchored is None:
            result.add(sequence, _("the anchored event is missing"))
        elif anchored != expected:
            result.add(sequence, _("hash differs from the anchored head"))
    for name, check in list(_checks.items()):
        try:
            found = list(check())
        except Exception as exc:  # a broken check is a problem to report, not a crash
            found = [_("the check failed: %s") % exc]
        for message in found:
            result.add(None, _("check %(name)s: %(problem)s") % {"name": name, "problem": message})
    result.problems.sort(key=lambda p: (p.sequence is None, p.sequence or 0))
    return result
