"""A payment attempt's status changes: one service per transition.

Each service locks the rows, checks the change against
:data:`payments.choices.ATTEMPT_TRANSITIONS` (``InvalidTransition`` otherwise), saves
and records an audit event (``attempt.succeeded``, ``attempt.returned`` …) with the
before/after of the status and of what the gateway said with it, as its last step.
Nothing else writes ``PaymentAttempt.status``.

Locks follow the order every writer takes: the attempt's **charge first, then the
attempt** (then the customer's ledger accounts). The callers (recording an answer, a
staff action, a returned debit) already hold both before they decide; locking again
is granted at once and reads the status back from the locked row, so the table is
checked against the row as it is.

An open status that repeats (a query that still says pending) is allowed by the
table and saves what the gateway added, without an event: only a change of status
is one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record, audit_record_bulk, changes_between, snapshot
from billing.models import Charge
from feemgmt.core.exceptions import InvalidTransition
from feemgmt.core.money import Money
from feemgmt.core.sql import update_rows
from payments.adapters import CollectionResult
from payments.adapters.base import thaw
from payments.choices import ATTEMPT_TRANSITIONS, AttemptStatus
from payments.events import deduction_failed
from payments.models import Mandate, PaymentAttempt, attempt_key

# Recorded before/after with a status change.
STATE_FIELDS = ("status", "error_code", "provider_reference")
# The statuses that decide an attempt (``decided_at`` is set on reaching them).
DECIDED = frozenset({AttemptStatus.SUCCEEDED, AttemptStatus.FAILED, AttemptStatus.CANCELLED})


def check_attempt_transition(current: str, target: str) -> None:
    if target not in ATTEMPT_TRANSITIONS[current]:
        raise InvalidTransition(
            _("The payment attempt is %(current)s and cannot become %(target)s.")
            % {
                "current": AttemptStatus(current).label,
                "target": AttemptStatus(target).label,
            }
        )


def attempt_lock(attempt: PaymentAttempt | int) -> PaymentAttempt:
    """The attempt locked after its charge, in the current transaction. An instance
    is kept (the caller goes on using it) with its status read from the locked row."""
    if not isinstance(attempt, PaymentAttempt):
        attempt = PaymentAttempt.objects.get(pk=attempt)
    Charge.objects.select_for_update(of=("self",)).filter(pk=attempt.charge_id).values_list(
        "pk", flat=True
    ).get()
    attempt.status = (
        PaymentAttempt.objects.select_for_update()
        .filter(pk=attempt.pk)
        .values_list("status", flat=True)
        .get()
    )
    return attempt


def keep_result(attempt: PaymentAttempt, result: CollectionResult) -> None:
    """Copy what a gateway's answer tells about the payment onto the attempt."""
    if result.provider_reference and not attempt.provider_reference:
        # The first name the gateway gave the payment stays (a bank transfer's
        # remittance reference is what statements quote).
        attempt.provider_reference = result.provider_reference
    attempt.error_code = result.error_code or ""
    attempt.error_message = result.error_message or ""
    if result.raw:
        attempt.raw = thaw(result.raw)
    if result.action is not None:
        attempt.action_kind, attempt.action_value = str(result.action.kind), result.action.value


def _transition(
    attempt: PaymentAttempt | int,
    *,
    target: str,
    action: str,
    result: CollectionResult | None = None,
    decided: bool = False,
    update_fields: list[str] | None = None,
    **values,
) -> PaymentAttempt:
    with transaction.atomic():
        attempt = attempt_lock(attempt)
        check_attempt_transition(attempt.status, target)
        before = snapshot(attempt, STATE_FIELDS)
        attempt.status = target
        if result is not None:
            keep_result(attempt, result)
        for name, value in values.items():
            setattr(attempt, name, value)
        if decided:
            attempt.decided_at = timezone.now()
        attempt.save(update_fields=update_fields)
        changes = changes_between(before, snapshot(attempt, STATE_FIELDS))
        if "status" in changes:
            audit_record(action=action, obj=attempt, changes=changes)
    return attempt


def attempt_open(
    *, charge: Charge, number: int, method: str, amount: Money, mandate: Mandate | None
) -> PaymentAttempt:
    """Open attempt ``number`` of a charge, unknown until the gateway answers, and
    committed by the caller before the gateway is called. The caller holds the
    charge's lock."""
    with transaction.atomic():
        attempt = PaymentAttempt.objects.create(
            charge=charge,
            number=number,
            idempotency_key=attempt_key(charge.pk, number),
            method=method,
            amount=amount,
            status=AttemptStatus.UNKNOWN,
            mandate=mandate,
        )
        audit_record(
            action="attempt.created",
            obj=attempt,
            changes={
                "after": {
                    "charge": charge.pk,
                    "number": number,
                    "idempotency_key": attempt.idempotency_key,
                    "method": method,
                    "amount": amount,
                    "mandate": mandate.pk if mandate else None,
                    "status": attempt.status,
                }
            },
        )
    return attempt


def attempt_succeed(
    *,
    attempt: PaymentAttempt | int,
    result: CollectionResult | None = None,
    raw: dict | None = None,
) -> PaymentAttempt:
    """The money arrived: from the gateway's answer (``result``) or from a bank
    statement line (``raw`` adds what the statement said)."""
    with transaction.atomic():
        attempt = attempt_lock(attempt)
        values = {"raw": {**attempt.raw, **raw}} if raw is not None else {}
        return _transition(
            attempt,
            target=AttemptStatus.SUCCEEDED,
            action="attempt.succeeded",
            result=result,
            decided=True,
            error_code="",
            error_message="",
            **values,
        )


def attempt_fail(*, attempt: PaymentAttempt | int, result: CollectionResult) -> PaymentAttempt:
    """The gateway or the bank declined the payment."""
    attempt = _transition(
        attempt, target=AttemptStatus.FAILED, action="attempt.failed", result=result, decided=True
    )
    deduction_failed.send(sender=PaymentAttempt, charge_id=attempt.charge_id)
    return attempt


def attempt_mark_pending(
    *, attempt: PaymentAttempt | int, result: CollectionResult
) -> PaymentAttempt:
    """Accepted, waiting for the customer (a QR code, a notice) or the bank."""
    return _transition(
        attempt, target=AttemptStatus.PENDING, action="attempt.pending", result=result
    )


def attempt_mark_unknown(
    *, attempt: PaymentAttempt | int, result: CollectionResult
) -> PaymentAttempt:
    """The gateway could not say: the attempt is queried again on the next sweep."""
    return _transition(
        attempt, target=AttemptStatus.UNKNOWN, action="attempt.unknown", result=result
    )


def attempt_return(
    *, attempt: PaymentAttempt | int, error_code: str, error_message: str
) -> PaymentAttempt:
    """The bank took a succeeded direct debit back (returned or reversed)."""
    attempt = _transition(
        attempt,
        target=AttemptStatus.RETURNED,
        action="attempt.returned",
        update_fields=["status", "error_code", "error_message", "updated_at"],
        error_code=error_code,
        error_message=error_message,
    )
    deduction_failed.send(sender=PaymentAttempt, charge_id=attempt.charge_id)
    return attempt


def attempt_cancel(*, attempt: PaymentAttempt | int) -> PaymentAttempt:
    """A QR code, payment notice or queued debit still out is withdrawn: it stops
    being expected (a debit not yet in a file never goes into one), and a payment of
    it that comes anyway is booked to the customer's prepaid balance."""
    return _transition(
        attempt,
        target=AttemptStatus.CANCELLED,
        action="attempt.cancelled",
        decided=True,
        update_fields=["status", "decided_at", "updated_at"],
    )


# What never changes once an attempt is opened: what a bulk event digests.
IDENTITY_FIELDS = ("charge_id", "number", "idempotency_key", "method", "amount", "amount_currency")
_BATCH = 10_000


def attempts_succeed(*, attempt_ids: Sequence[int]) -> list[int]:
    """Many attempts paid at once (a statement's transfers settling their notices).

    The same transition as :func:`attempt_succeed`, checked row by row against the
    table, written set-based with one audit event for all; the caller holds the
    charges' locks. Returns the ids moved (already succeeded ones are left).
    """
    ids = sorted(set(attempt_ids))
    moved: list[int] = []
    before: Counter[str] = Counter()
    with transaction.atomic():
        for start in range(0, len(ids), _BATCH):
            batch = ids[start : start + _BATCH]
            rows = (
                PaymentAttempt.objects.select_for_update()
                .filter(pk__any=batch)
                .order_by("pk")
                .values_list("pk", "status")
            )
            moving = []
            for pk, status in rows:
                if status == AttemptStatus.SUCCEEDED:
                    continue
                check_attempt_transition(status, AttemptStatus.SUCCEEDED)
                moving.append(pk)
                before[status] += 1
            now = timezone.now()
            PaymentAttempt.objects.filter(pk__any=moving).update(
                status=AttemptStatus.SUCCEEDED,
                decided_at=now,
                error_code="",
                error_message="",
                updated_at=now,
            )
            moved += moving
        if moved:
            audit_record_bulk(
                action="attempt.succeeded",
                model=PaymentAttempt,
                ids=moved,
                fields=IDENTITY_FIELDS,
                extra={"status": [dict(before), AttemptStatus.SUCCEEDED]},
            )
    return moved


def attempts_open(*, attempts: Sequence[PaymentAttempt]) -> list[PaymentAttempt]:
    """Open many attempts at once (a collection task's batch): each as
    :func:`attempt_open` would, unknown until its gateway answers, with no mandate;
    one INSERT and one audit event for all. The caller holds the charges' locks and
    commits before any gateway is called."""
    if not attempts:
        return []
    for attempt in attempts:
        attempt.idempotency_key = attempt_key(attempt.charge_id, attempt.number)
        attempt.status = AttemptStatus.UNKNOWN
    with transaction.atomic():
        created = PaymentAttempt.objects.bulk_create(attempts)
        audit_record_bulk(
            action="attempt.created",
            model=PaymentAttempt,
            ids=[attempt.pk for attempt in created],
            fields=IDENTITY_FIELDS,
            extra={"status": AttemptStatus.UNKNOWN},
        )
    return created


# What an answer may write on an attempt, besides its status (see keep_result).
ANSWER_FIELDS = (
    "provider_reference",
    "error_code",
    "error_message",
    "raw",
    "action_kind",
    "action_value",
)


def attempts_answer(*, answers: dict[int, CollectionResult], target: str, action: str) -> list[int]:
    """Many open attempts moved to ``target`` by their gateways' answers (a
    collection task's batch): :func:`attempt_succeed` or :func:`attempt_mark_pending`
    for each — the table checked row by row, what each answer told kept as
    :func:`keep_result` keeps it — written in one UPDATE, with one audit event that
    also names the gateway reference each was given. The caller holds the charges'
    locks; the attempts are locked here. Returns the ids moved (an attempt already
    in ``target`` is left)."""
    if not answers:
        return []
    with transaction.atomic():
        attempts = list(
            PaymentAttempt.objects.select_for_update()
            .filter(pk__any=sorted(answers))
            .order_by("pk")
            .only("pk", "status", *ANSWER_FIELDS)
        )
        before: Counter[str] = Counter()
        moving = []
        now = timezone.now()
        for attempt in attempts:
            if attempt.status == target:
                continue
            check_attempt_transition(attempt.status, target)
            before[attempt.status] += 1
            attempt.status = target
            keep_result(attempt, answers[attempt.pk])
            if target in DECIDED:
                attempt.decided_at = now
            attempt.updated_at = now
            moving.append(attempt)
        fields = ["status", *ANSWER_FIELDS, "updated_at", "decided_at"]
        update_rows(
            PaymentAttempt,
            fields,
            {attempt.pk: [getattr(attempt, name) for name in fields] for attempt in moving},
        )
        moved = [attempt.pk for attempt in moving]
        if moved:
            audit_record_bulk(
                action=action,
                model=PaymentAttempt,
                ids=moved,
                fields=IDENTITY_FIELDS,
                extra={
                    "status": [dict(before), target],
                    "provider_reference": {
                        str(attempt.pk): attempt.provider_reference
                        for attempt in moving
                        if attempt.provider_reference
                    },
                },
            )
    return moved
