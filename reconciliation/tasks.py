"""Celery entry points of reconciliation. Thin: call a service."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from reconciliation.services.discrepancies import discrepancies_find_missing


@shared_task(name="reconciliation.find_missing")
def find_missing_payments_task(on: str | None = None) -> int:
    """Daily: payments the books expect that no statement showed."""
    day = dt.date.fromisoformat(on) if on else timezone.localdate()
    return discrepancies_find_missing(on=day)
