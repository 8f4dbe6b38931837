"""A charge's status changes: one service per transition.

Each service locks the charge row, checks the change against
:data:`billing.choices.CHARGE_TRANSITIONS` (``InvalidTransition`` otherwise, and
nothing is written), saves, and records the change in the audit trail as its last
step, with the before/after of the fields it changed. Nothing else writes
``Charge.status``: collection, staff actions, returned debits and terminations all
come through here, so the table is the whole state machine and every change leaves
an event.

Locks. Every writer takes rows in one order: **the charge, then its attempts, then
the customer's ledger accounts (in id order)**; a termination takes the contract's
fees before its charges. A service given a charge id loads and locks the row. A
service given an instance locks the row again: when the caller already holds the
lock (collection, staff actions and terminations do, before they decide anything)
the database grants it at once, and the status is read back from the locked row, so
a caller holding an instance read without the lock is checked against the row as it
is, not as it was. That costs one small query per transition and makes "called
without the lock" impossible to get wrong.

Events are recorded only when the status changes. A self-transition the table
allows (a failed charge declined again, an overdue one whose staff retry was
declined) moves the next collection date without an event: the attempt's own event
says what happened.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record, audit_record_bulk, changes_between, snapshot
from feemgmt.core.exceptions import InvalidTransition
from feemgmt.core.money import Money

from ..choices import CHARGE_TRANSITIONS, COLLECTABLE_STATUSES, ChargeStatus
from ..models import Charge

# What a status change writes (and records before/after of).
STATE_FIELDS = ("status", "next_attempt_on")
# What re-pricing at a termination writes.
PRICE_FIELDS = ("period_end", "amount", "prorated")


def check_charge_transition(current: str, target: str) -> None:
    """Raise InvalidTransition unless CHARGE_TRANSITIONS allows ``current → target``."""
    if target not in CHARGE_TRANSITIONS[current]:
        raise InvalidTransition(
            _("The charge is %(current)s and cannot become %(target)s.")
            % {
                "current": ChargeStatus(current).label,
                "target": ChargeStatus(target).label,
            }
        )


def charge_lock(charge: Charge | int) -> Charge:
    """The charge row locked in the current transaction (see the module docstring).

    An id is loaded whole; an instance is kept (the caller goes on using it) and the
    fields a status change reads and writes are refreshed from the locked row.
    """
    rows = Charge.objects.select_for_update(of=("self",))
    if not isinstance(charge, Charge):
        return rows.get(pk=charge)
    charge.status, charge.next_attempt_on = (
        rows.filter(pk=charge.pk).values_list(*STATE_FIELDS).get()
    )
    return charge


def _transition(
    charge: Charge | int,
    *,
    target: str,
    action: str,
    next_attempt_on: dt.date | None,
    reopen: bool = False,
    reason: str = "",
) -> Charge:
    with transaction.atomic():
        charge = charge_lock(charge)
        if charge.status == ChargeStatus.PAID and not reopen:
            # Leaving paid is a re-opening (a returned debit), never an ordinary
            # decline or overdue: the table allows it for charge_reopen only.
            raise InvalidTransition(
                _("The charge is %(current)s and cannot become %(target)s.")
                % {"current": ChargeStatus.PAID.label, "target": ChargeStatus(target).label}
            )
        check_charge_transition(charge.status, target)
        before = snapshot(charge, STATE_FIELDS)
        charge.status, charge.next_attempt_on = target, next_attempt_on
        changes = changes_between(before, snapshot(charge, STATE_FIELDS))
        if not changes:
            return charge
        charge.save(update_fields=[*STATE_FIELDS, "updated_at"])
        if "status" in changes:
            if reason:
                changes["reason"] = ["", reason]
            audit_record(action=action, obj=charge, changes=changes)
    return charge


def charge_settle(*, charge: Charge | int) -> Charge:
    """Nothing is left to collect: the charge is paid and leaves the collection
    schedule."""
    return _transition(charge, target=ChargeStatus.PAID, action="charge.paid", next_attempt_on=None)


def charge_fail(*, charge: Charge | int, next_attempt_on: dt.date) -> Charge:
    """An attempt was declined: the charge waits for its retry on ``next_attempt_on``."""
    return _transition(
        charge, target=ChargeStatus.FAILED, action="charge.failed", next_attempt_on=next_attempt_on
    )


def charge_mark_overdue(*, charge: Charge | int, next_attempt_on: dt.date | None = None) -> Charge:
    """Every retry was spent, or a payment is still outstanding past the schedule.

    The charge stays collectable; ``next_attempt_on`` is when collection looks again
    (a payment still pending is checked, a blocked charge retried), or None.
    """
    return _transition(
        charge,
        target=ChargeStatus.OVERDUE,
        action="charge.overdue",
        next_attempt_on=next_attempt_on,
    )


def charge_resume(*, charge: Charge | int, next_attempt_on: dt.date) -> Charge:
    """A failed charge is being collected again (its retry opened a new attempt)."""
    return _transition(
        charge,
        target=ChargeStatus.PENDING,
        action="charge.resumed",
        next_attempt_on=next_attempt_on,
    )


def charge_cancel(*, charge: Charge | int, reason: str = "") -> Charge:
    """The charge is no longer owed (staff cancel, or a termination): it leaves the
    collection schedule. Its booking is reversed by the caller. A staff cancel's
    ``reason`` is recorded in the event."""
    return _transition(
        charge,
        target=ChargeStatus.CANCELLED,
        action="charge.cancelled",
        next_attempt_on=None,
        reason=reason,
    )


def charge_write_off(*, charge: Charge | int) -> Charge:
    """What was left of the charge was given up on (an approved write-off)."""
    return _transition(
        charge, target=ChargeStatus.WRITTEN_OFF, action="charge.written_off", next_attempt_on=None
    )


def charge_reopen(*, charge: Charge | int, next_attempt_on: dt.date | None) -> Charge:
    """A paid charge is owed again (the bank returned its direct debit): failed with a
    retry on ``next_attempt_on``, or overdue when every retry was already spent
    (``None``). Only a paid charge re-opens; a refund never does."""
    with transaction.atomic():
        charge = charge_lock(charge)
        if charge.status != ChargeStatus.PAID:
            raise InvalidTransition(
                _("The charge is %(current)s: only a paid charge can be owed again.")
                % {"current": ChargeStatus(charge.status).label}
            )
        target = ChargeStatus.FAILED if next_attempt_on else ChargeStatus.OVERDUE
        return _transition(
            charge,
            target=target,
            action="charge.reopened",
            next_attempt_on=next_attempt_on,
            reopen=True,
        )


def charge_reprice(
    *, charge: Charge | int, period_end: dt.date, amount: Money, prorated: bool
) -> Charge:
    """A termination cut the charge's period: it now ends on ``period_end`` and costs
    ``amount``. Only a charge still to collect is re-priced (the ledger re-books it);
    one already settled is collection's to refund."""
    with transaction.atomic():
        charge = charge_lock(charge)
        if charge.status not in COLLECTABLE_STATUSES:
            raise InvalidTransition(
                _("The charge is %(current)s: only a charge still to collect can be re-priced.")
                % {"current": ChargeStatus(charge.status).label}
            )
        before = snapshot(charge, PRICE_FIELDS)
        charge.period_end, charge.amount, charge.prorated = period_end, amount, prorated
        changes = changes_between(before, snapshot(charge, PRICE_FIELDS))
        if changes:
            charge.save(update_fields=[*PRICE_FIELDS, "updated_at"])
            audit_record(action="charge.repriced", obj=charge, changes=changes)
    return charge


# What never changes once a charge is billed: what a bulk event digests.
IDENTITY_FIELDS = ("contract_id", "fee_id", "kind", "period_start", "due_date", "amount_currency")
_BATCH = 10_000


def charges_settle(*, charge_ids: Sequence[int]) -> list[int]:
    """Many charges paid at once (a bank statement's transfers).

    The same transition as :func:`charge_settle`, checked row by row against the
    table, but written set-based: one locking read and one UPDATE per batch, and one
    audit event for all of them, so a statement settling a hundred thousand charges
    is not a hundred thousand transitions. Returns the ids settled (already paid ones
    are left as they are).
    """
    ids = sorted(set(charge_ids))
    if not ids:
        return []
    settled: list[int] = []
    before: Counter[str] = Counter()
    with transaction.atomic():
        for start in range(0, len(ids), _BATCH):
            batch = ids[start : start + _BATCH]
            rows = (
                Charge.objects.select_for_update(of=("self",))
                .filter(pk__any=batch)
                .order_by("pk")
                .values_list("pk", "status")
            )
            moving = []
            for pk, status in rows:
                if status == ChargeStatus.PAID:
                    continue
                check_charge_transition(status, ChargeStatus.PAID)
                moving.append(pk)
                before[status] += 1
            Charge.objects.filter(pk__any=moving).update(
                status=ChargeStatus.PAID, next_attempt_on=None, updated_at=timezone.now()
            )
            settled += moving
        if settled:
            audit_record_bulk(
                action="charge.paid",
                model=Charge,
                ids=settled,
                fields=IDENTITY_FIELDS,
                extra={"status": [dict(before), ChargeStatus.PAID], "next_attempt_on": None},
            )
    return settled
