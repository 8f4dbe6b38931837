"""Celery entry points of collection. Thin: parse, call a service.

Every task here may run twice or in two workers at once (acks_late redelivers a
task whose worker died; beat and the billing run may both hand over a charge):
:func:`~payments.services.collection.charge_collect` takes an advisory lock per
charge and relies on unique constraints, so a duplicate returns ``busy`` or finds
nothing left to do. The Redis visibility timeout (settings, one hour) is well above
the longest task: a chunk of COLLECT_CHUNK charges, each bounded by the gateway
timeout.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

from celery import shared_task
from django.utils import timezone

from payments.services.collection import charge_collect, charges_collect, collectable_charge_ids

logger = logging.getLogger(__name__)

COLLECT_CHUNK = 100


def _day(on: str | None) -> dt.date:
    return dt.date.fromisoformat(on) if on else timezone.localdate()


@shared_task(name="payments.sweep")
def collection_sweep_task(on: str | None = None) -> int:
    """Beat, every few minutes: hand every charge whose collection step is due to
    workers, in chunks. Returns the number of charges handed over."""
    day = _day(on)
    after, handed = 0, 0
    while ids := collectable_charge_ids(on=day, after=after, limit=COLLECT_CHUNK):
        collect_charges_task.delay(ids, day.isoformat())
        handed += len(ids)
        after = ids[-1]
    return handed


@shared_task(name="payments.collect_charges")
def collect_charges_task(charge_ids: list[int], on: str | None = None) -> dict[str, int]:
    """Collect the charges together (the ordinary ones in a few queries for all);
    one charge's error does not stop the others. Should the batch itself fail, each
    charge is collected on its own: an attempt the batch opened and could not
    record is resolved by asking its gateway, with the same key."""
    day = _day(on)
    try:
        return dict(charges_collect(charge_ids, on=day))
    except Exception:
        logger.exception("collecting %s charges together failed", len(charge_ids))
    outcomes: Counter[str] = Counter()
    for charge_id in charge_ids:
        try:
            outcomes[charge_collect(charge_id, on=day)] += 1
        except Exception:
            logger.exception("collecting charge %s failed", charge_id)
            outcomes["error"] += 1
    return dict(outcomes)


@shared_task(name="payments.collect_charge")
def collect_charge_task(charge_id: int, force: bool = False) -> str:
    """One charge now (staff "retry now", or a notification-less method's check)."""
    return str(charge_collect(charge_id, force=force))


def enqueue_collection(charge_ids: list[int], on: dt.date) -> None:
    """Hand freshly billed charges to workers: a billing chunk sends one message, and
    the worker that takes it splits it into tasks of COLLECT_CHUNK charges, so the
    billing run does not wait on a publish per hundred charges."""
    if len(charge_ids) <= COLLECT_CHUNK:
        collect_charges_task.delay(list(charge_ids), on.isoformat())
    else:
        collection_hand_over_task.delay(list(charge_ids), on.isoformat())


@shared_task(name="payments.hand_over")
def collection_hand_over_task(charge_ids: list[int], on: str) -> int:
    """Split billed charges into collection tasks; returns the tasks queued."""
    tasks = 0
    for start in range(0, len(charge_ids), COLLECT_CHUNK):
        collect_charges_task.delay(charge_ids[start : start + COLLECT_CHUNK], on)
        tasks += 1
    return tasks


@shared_task(name="payments.daily_notices")
def daily_notices_task(on: str | None = None) -> dict[str, int]:
    """Beat, each morning: upcoming direct debits and expiring mandates."""
    from payments.services.notices import send_daily_notices

    return send_daily_notices(_day(on))


@shared_task(name="payments.direct_debit_batches")
def direct_debit_batches_task(on: str | None = None) -> int:
    """Daily: put the accepted direct debits into pain.008 files for the bank."""
    from payments.services.direct_debit import direct_debit_batches_create

    return len(direct_debit_batches_create(on=_day(on)))


@shared_task(name="payments.send_receipts")
def send_receipts_task(attempt_ids: list[int]) -> int:
    """Receipts for payments booked in bulk (a statement's transfers): sent by a
    worker, not by the import that booked them. Each is sent at most once."""
    return _send_notices("receipt", attempt_ids)


@shared_task(name="payments.send_notices")
def send_notices_task(notice: str, attempt_ids: list[int]) -> int:
    """The customer notices of attempts a collection task recorded together:
    ``receipt`` or ``payment_request``. Each is sent at most once."""
    return _send_notices(notice, attempt_ids)


def _send_notices(notice: str, attempt_ids: list[int]) -> int:
    from payments.services import notices

    if notice == "receipt":  # all of them in a few queries and one mail connection
        return notices.receipts(attempt_ids)
    send = {"payment_request": notices.payment_request}[notice]
    sent = 0
    for attempt_id in attempt_ids:
        try:
            sent += bool(send(attempt_id))
        except Exception:
            logger.exception("%s for attempt %s not sent", notice, attempt_id)
    return sent


@shared_task(name="payments.deposits_to_release")
def deposits_to_release_task() -> int:
    """Daily: an alert for each ended contract whose deposit is still held."""
    from payments.services.deposits import deposits_find_unreleased

    return deposits_find_unreleased()
