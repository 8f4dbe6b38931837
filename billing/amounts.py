"""Which amount a fee charges for a period, once amendments have changed it.

A signed fee's own amount never changes (contracts/triggers.py); what does is the
list of its consented amendments, each an amount from a period start on. This
module reads those lists for the billing run, the notices and the terminations,
one query for any number of fees (docs/amendments.md).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from moneyed import Money

from feemgmt.core.money import money_from_db

from .calendar import AmountChange, amount_in_force
from .choices import AmendmentStatus
from .models import FeeAmendment


def amount_changes(fee_ids: Iterable[int]) -> dict[int, tuple[AmountChange, ...]]:
    """The consented amendments of ``fee_ids`` as ``{fee id: ((effective_from,
    amount), ...)}``, oldest first; fees without any are left out."""
    fee_ids = list(fee_ids)
    if not fee_ids:
        return {}
    rows = (
        FeeAmendment.objects.filter(fee_id__any=fee_ids, status=AmendmentStatus.CONSENTED)
        .order_by("fee_id", "effective_from")
        .values_list("fee_id", "effective_from", "new_amount", "new_amount_currency")
    )
    changes: dict[int, list[AmountChange]] = defaultdict(list)
    for fee_id, effective_from, amount, currency in rows:
        changes[fee_id].append((effective_from, money_from_db(amount, currency)))
    return {fee_id: tuple(items) for fee_id, items in changes.items()}


def fee_amount_on(fee, day: dt.date) -> Money:
    """The full-period amount ``fee`` charges for a period starting on ``day``."""
    return amount_in_force(fee.amount, amount_changes([fee.pk]).get(fee.pk, ()), day)
