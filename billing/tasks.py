"""Celery entry points of the billing run. Thin: parse, call a service."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from .services import (
    billing_actor,
    billing_chunks,
    billing_run_chunk,
    check_billing_date,
    contracts_advance_status,
)
from .services.amendments import amendment_notify, amendments_lapse


@shared_task(name="billing.run")
def billing_run_task(on: str | None = None) -> int:
    """Daily (beat): fan the billing run for ``on`` (default: today in the billing
    time zone) out into one task per chunk of fees, so more workers finish sooner."""
    day = dt.date.fromisoformat(on) if on else timezone.localdate()
    check_billing_date(day)  # before anything moves: a future date is refused whole
    with billing_actor():
        contracts_advance_status(on=day)
    chunks = 0
    for first_id, last_id in billing_chunks(on=day):
        billing_chunk_task.delay(day.isoformat(), first_id, last_id)
        chunks += 1
    return chunks


@shared_task(name="billing.run_chunk")
def billing_chunk_task(on: str, first_id: int, last_id: int) -> int:
    with billing_actor():
        totals = billing_run_chunk(on=dt.date.fromisoformat(on), first_id=first_id, last_id=last_id)
    return totals.charges_created


@shared_task(
    name="billing.amendment_notify",
    autoretry_for=(Exception,),
    retry_backoff=60,
    retry_kwargs={"max_retries": 8},
)
def amendment_notify_task(amendment_id: int) -> bool:
    return amendment_notify(amendment_id)


@shared_task(name="billing.amendments_lapse")
def amendments_lapse_task(on: str | None = None) -> int:
    """Daily (beat): changes not consented by their effective date lapse."""
    day = dt.date.fromisoformat(on) if on else timezone.localdate()
    with billing_actor():
        return amendments_lapse(on=day)
