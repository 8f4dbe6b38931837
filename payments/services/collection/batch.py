"""A collection task's charges collected together (docs/collection.md, "Batched
collection").

Most charges a task holds are ordinary: due, nothing open, no prepaid credit, no
mandate to check, a method whose adapter loads. For those the single path's steps
are taken for the whole batch at once, in a fixed number of queries:

1. one transaction: the charges locked in id order, what each still owes read from
   the ledger in one grouped query, their attempts opened in one INSERT with one
   audit event; committed before any gateway hears of them;
2. every gateway called, outside any transaction;
3. one transaction: the charges and then the attempts locked again; the plain
   successes booked with :func:`ledger.bulk.post_many` and moved by the bulk
   transitions (one audit event for the attempts, one for the charges), the plain
   pending answers moved to pending; receipts and payment requests handed to a
   worker after commit.

Anything else takes the single path (:mod:`.steps`, :mod:`.answers`), one charge at a
time and with the same outcome as if the batch did not exist: a charge with an attempt
still open, a failed charge's retry, a prepayment or deposit, a customer holding
prepaid credit, a method that debits under a mandate, an adapter that does not
load; and, after step 3, every answer that is not a plain success or pending — a
decline, no answer, an amount other than asked, an attempt a notification decided
meanwhile, a pending payment already past the retry schedule.

The advisory locks of all the task's charges are taken in one statement and held
across the three steps, as the single path holds one; a charge another worker holds
is ``busy``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from alerts.choices import AlertKind
from alerts.services import alerts_resolve
from billing.choices import ChargeStatus
from billing.models import Charge
from billing.services import charges_settle
from contracts.choices import FeeKind, SigningTreatment
from feemgmt.core.locks import advisory_locks
from feemgmt.core.money import Money, money_from_db
from ledger.bulk import post_many
from ledger.choices import AccountPurpose
from ledger.postings import accounts_for_customers, charge_subject, payment_posting
from ledger.postings.rules import clearing_account
from ledger.selectors import holding_prepaid, receivable_by_subject
from payments.adapters import AdapterError, CollectionResult, get_adapter
from payments.adapters.base import AttemptStatus as Gateway
from payments.choices import OPEN_ATTEMPT_STATUSES, AttemptStatus
from payments.models import PaymentAttempt

from .. import mandates
from ..attempts import attempts_answer, attempts_open
from .answers import record_result, record_unanswered
from .rules import (
    COLLECTABLE,
    LOCK_NAMESPACE,
    Outcome,
    charge_label,
    collection_request,
    logger,
    overdue_after_due,
)
from .steps import charge_collect

# Charge columns the batch reads, in the order _Due takes them.
_COLUMNS = (
    "pk",
    "due_date",
    "next_attempt_on",
    "kind",
    "period_start",
    "contract__customer_id",
    "contract__payment_method",
    "contract__number",
    "contract__customer__code",
)


@dataclass
class _Due:
    """A charge collected with the batch, and the attempt opened for it."""

    charge_id: int
    due_date: dt.date
    next_attempt_on: dt.date
    kind: str
    period_start: dt.date | None
    customer_id: int
    method: str
    contract_number: str
    customer_code: str
    amount: Money
    attempt: PaymentAttempt | None = None


Answer = CollectionResult | AdapterError | None  # None: the call itself broke


def charges_collect(charge_ids: Sequence[int], *, on: dt.date) -> Counter[str]:
    """Move each charge's collection forward, as :func:`charge_collect` would;
    returns how many ended in each outcome (``error`` for one whose step raised)."""
    outcomes: Counter[str] = Counter()
    with advisory_locks(LOCK_NAMESPACE, charge_ids) as held:
        outcomes[Outcome.BUSY] += len(set(charge_ids)) - len(held)
        due, one_by_one, not_due = _open(held, on=on)
        outcomes[Outcome.NOT_DUE] += not_due
        answers = [(item, _ask(item)) for item in due]
        later = _record(answers, on=on, outcomes=outcomes)
        for item, answer in later:
            outcomes[_guarded(_record_one, item, answer, on=on)] += 1
        for charge_id in one_by_one:
            outcomes[_guarded(charge_collect, charge_id, on=on)] += 1
    return +outcomes


def _guarded(step: Callable[..., Outcome], *args, **kwargs) -> str:
    """One charge's step; its error is logged and counted, the others go on."""
    try:
        return step(*args, **kwargs)
    except Exception:
        logger.exception("collecting %s failed", args[0])
        return "error"


# --- 1. Open the attempts --------------------------------------------------------------


def _plain_method(method: str, known: dict[str, bool]) -> bool:
    if method not in known:
        try:
            get_adapter(method)
            known[method] = not mandates.required(method)
        except ImproperlyConfigured:  # the single path blocks the charge, with an alert
            known[method] = False
    return known[method]


def _open(charge_ids: list[int], *, on: dt.date) -> tuple[list[_Due], list[int], int]:
    """(the charges whose attempts were opened, those for the single path, how many
    were not due)."""
    if not charge_ids:
        return [], [], 0
    with transaction.atomic():
        open_ids = set(
            PaymentAttempt.objects.filter(
                charge_id__any=charge_ids, status__in=OPEN_ATTEMPT_STATUSES
            ).values_list("charge_id", flat=True)
        )
        rows = (
            Charge.objects.select_for_update(of=("self",))
            .filter(
                pk__any=[pk for pk in charge_ids if pk not in open_ids],
                status__in=COLLECTABLE,
                next_attempt_on__lte=on,
            )
            .order_by("pk")
            .values_list("status", "fee__treatment", "amount", "amount_currency", *_COLUMNS)
        )
        one_by_one, candidates, methods = sorted(open_ids), [], {}
        not_due = len(charge_ids) - len(open_ids)
        for status, treatment, amount, currency, *columns in rows:
            not_due -= 1
            item = _Due(*columns, amount=Money(amount, currency))
            ordinary = (
                status != ChargeStatus.FAILED  # a retry resumes the charge: single path
                and (treatment or SigningTreatment.FEE) == SigningTreatment.FEE
                and amount > 0
                and _plain_method(item.method, methods)
            )
            if ordinary:
                candidates.append(item)
            else:
                one_by_one.append(item.charge_id)
        due = _owing(candidates, one_by_one)
        if not due:
            return [], sorted(one_by_one), not_due
        numbers = dict(
            PaymentAttempt.objects.filter(charge_id__any=[item.charge_id for item in due])
            .values_list("charge_id")
            .annotate(last=Max("number"))
            .order_by()
        )
        opened = attempts_open(
            attempts=[
                PaymentAttempt(
                    charge_id=item.charge_id,
                    number=numbers.get(item.charge_id, 0) + 1,
                    method=item.method,
                    amount=item.amount,
                )
                for item in due
            ]
        )
        for item, attempt in zip(due, opened, strict=True):
            item.attempt = attempt
        # looked at again on the next sweep if no answer comes
        Charge.objects.filter(
            pk__any=[item.charge_id for item in due if item.next_attempt_on != on]
        ).update(next_attempt_on=on, updated_at=timezone.now())
        alerts_resolve(
            kind=AlertKind.COLLECTION_BLOCKED,
            subject=[charge_subject(item.charge_id) for item in due],
        )
    return due, sorted(one_by_one), not_due


def _owing(candidates: list[_Due], one_by_one: list[int]) -> list[_Due]:
    """The candidates that still owe something, each asking for what it owes; one
    that owes nothing (it settles) or whose customer holds prepaid credit (spent
    first, under the account locks) goes to the single path."""
    owed = receivable_by_subject(charge_subject(item.charge_id) for item in candidates)
    prepaid = holding_prepaid((item.customer_id, item.amount.currency.code) for item in candidates)
    due = []
    for item in candidates:
        currency = item.amount.currency.code
        rest = money_from_db(owed.get(charge_subject(item.charge_id)), currency)
        if rest.amount <= 0 or (item.customer_id, currency) in prepaid:
            one_by_one.append(item.charge_id)
            continue
        item.amount = rest
        due.append(item)
    return due


# --- 2. Ask the gateways ------------------------------------------------------------------


def _ask(item: _Due) -> Answer:
    """One gateway call, outside any transaction."""
    attempt = item.attempt
    request = collection_request(
        key=attempt.idempotency_key,
        amount=attempt.amount,
        method=item.method,
        charge_id=item.charge_id,
        charge_label=charge_label(FeeKind(item.kind).label, item.period_start),
        contract_number=item.contract_number,
        customer_code=item.customer_code,
    )
    try:
        return get_adapter(item.method).collect(request)
    except AdapterError as exc:  # a timeout, or an error after which nobody knows
        return exc
    except Exception:  # left unknown: the next sweep asks the gateway with the same key
        logger.exception("payment attempt %s: the gateway call broke", attempt.idempotency_key)
        return None


# --- 3. Record the answers ----------------------------------------------------------------


def _record(
    answers: list[tuple[_Due, Answer]], *, on: dt.date, outcomes: Counter[str]
) -> list[tuple[_Due, Answer]]:
    """Record the plain successes and pending answers together; return the rest, for
    the single path."""
    results = {item.charge_id: (item, a) for item, a in answers if isinstance(a, CollectionResult)}
    later = [(item, a) for item, a in answers if not isinstance(a, CollectionResult)]
    if not results:
        return later
    paid: dict[int, tuple[_Due, CollectionResult]] = {}
    waiting: dict[int, tuple[_Due, CollectionResult]] = {}
    with transaction.atomic():
        charges = dict(
            Charge.objects.select_for_update(of=("self",))
            .filter(pk__any=sorted(results))
            .order_by("pk")
            .values_list("pk", "status")
        )
        attempts = dict(
            PaymentAttempt.objects.select_for_update()
            .filter(pk__any=sorted(item.attempt.pk for item, _a in results.values()))
            .order_by("pk")
            .values_list("pk", "status")
        )
        owed = receivable_by_subject(charge_subject(pk) for pk in results)
        for charge_id, (item, result) in results.items():
            attempt = item.attempt
            # a notification, a staff action or a termination may have come first
            untouched = (
                charges[charge_id] in COLLECTABLE and attempts[attempt.pk] == AttemptStatus.UNKNOWN
            )
            if (
                untouched
                and result.status == Gateway.SUCCEEDED
                and result.amount in (None, attempt.amount)
                and owed.get(charge_subject(charge_id)) == attempt.amount.amount
            ):
                paid[charge_id] = (item, result)
            elif (
                untouched
                and result.status == Gateway.PENDING
                and on <= overdue_after_due(item.due_date)
            ):
                waiting[charge_id] = (item, result)
            else:
                later.append((item, result))
        _pay(paid, on=on)
        _wait(waiting, on=on)
    outcomes[Outcome.PAID] += len(paid)
    outcomes[Outcome.PENDING] += len(waiting)
    return later


def _pay(paid: dict[int, tuple[_Due, CollectionResult]], *, on: dt.date) -> None:
    """Book what each collected against its charge, then the attempts succeed and the
    charges are paid (the audit events last, as the single path writes them)."""
    if not paid:
        return
    receivable = accounts_for_customers(
        AccountPurpose.RECEIVABLE,
        {(item.customer_id, item.amount.currency.code) for item, _r in paid.values()},
    )
    clearing = {
        key: clearing_account(*key)
        for key in {(item.method, item.amount.currency.code) for item, _r in paid.values()}
    }
    entries = [
        payment_posting(
            reference=f"attempt:{item.attempt.idempotency_key}",
            charge_id=charge_id,
            amount=item.attempt.amount.amount,
            currency=item.amount.currency.code,
            on=on,
            clearing=clearing[item.method, item.amount.currency.code],
            credited=receivable[item.customer_id, item.amount.currency.code],
        )
        for charge_id, (item, _result) in paid.items()
    ]
    post_many(entries)
    attempt_ids = attempts_answer(
        answers={item.attempt.pk: result for item, result in paid.values()},
        target=AttemptStatus.SUCCEEDED,
        action="attempt.succeeded",
    )
    alerts_resolve(kind=AlertKind.CHARGE_OVERDUE, subject=[charge_subject(pk) for pk in paid])
    charges_settle(charge_ids=list(paid))
    _after_commit("receipt", attempt_ids)


def _wait(waiting: dict[int, tuple[_Due, CollectionResult]], *, on: dt.date) -> None:
    """Accepted, waiting for the customer or the bank: checked again in a few days;
    the customers who must act (a QR code, a payment notice) are told how."""
    if not waiting:
        return
    attempts_answer(
        answers={item.attempt.pk: result for item, result in waiting.values()},
        target=AttemptStatus.PENDING,
        action="attempt.pending",
    )
    check_on = on + dt.timedelta(days=settings.PAYMENT_PENDING_CHECK_DAYS)
    Charge.objects.filter(pk__any=list(waiting)).update(
        next_attempt_on=check_on, updated_at=timezone.now()
    )
    told = [
        item.attempt.pk
        for item, result in waiting.values()
        if result.action is not None and result.action.value
    ]
    _after_commit("payment_request", told)


def _after_commit(notice: str, attempt_ids: list[int]) -> None:
    if not attempt_ids:
        return

    def hand_over():
        from payments.tasks import send_notices_task

        send_notices_task.delay(notice, sorted(attempt_ids))

    transaction.on_commit(hand_over)


def _record_one(item: _Due, answer: Answer, *, on: dt.date) -> str:
    if isinstance(answer, CollectionResult):
        return record_result(item.attempt.pk, answer, on=on)
    if isinstance(answer, AdapterError):
        return record_unanswered(item.attempt, answer, on=on)
    return "error"  # logged when it broke; the attempt stays unknown


__all__ = ["charges_collect"]
