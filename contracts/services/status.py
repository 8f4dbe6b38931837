"""The daily status job: contracts move on as their service begins and ends."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record_bulk

from ..choices import ContractStatus, contract_statuses_into
from ..models import Contract

# A bulk status event digests only what no later change touches: once signed, a
# contract's number, customer, signing date and service start are frozen (a
# termination moves service_end, and statuses move on by design).
ADVANCE_DIGEST_FIELDS = ["number", "customer", "signed_on", "service_start"]
# Ids per UPDATE in the daily status job (well below SQLite's bound parameters).
ADVANCE_IDS_PER_QUERY = 10_000


# The daily status job's moves, in order: a contract whose service is over ends
# (even if it never became active), then a signed one whose service has begun
# becomes active.
_ADVANCES = (
    (ContractStatus.ENDED, "service_end__lt"),
    (ContractStatus.ACTIVE, "service_start__lte"),
)


@transaction.atomic
def contracts_advance_status(*, on: dt.date) -> dict[str, int]:
    """Move signed contracts whose service has begun to active, and contracts whose
    service has ended to ended.

    Set-based, as a daily job over the whole book must be: per move, one query locks
    the contracts that qualify (from the statuses the transition table allows) and
    one update moves them. One bulk audit event then covers every contract moved,
    with the moves by id; no event when nothing moved.
    """
    now = timezone.now()
    counts: dict[str, int] = {}
    moves: list[dict] = []
    moved_ids: list[int] = []
    for target, lookup in _ADVANCES:
        rows = list(
            Contract.objects.select_for_update()
            .filter(**{lookup: on}, status__in=contract_statuses_into(target))
            .order_by("pk")
            .values_list("pk", "status")
        )
        ids = [pk for pk, _status in rows]
        for start in range(0, len(ids), ADVANCE_IDS_PER_QUERY):
            Contract.objects.filter(pk__in=ids[start : start + ADVANCE_IDS_PER_QUERY]).update(
                status=target, updated_at=now
            )
        counts[target] = len(ids)
        for source in sorted({status for _pk, status in rows}):
            moves.append(
                {
                    "from": source,
                    "to": target,
                    "ids": [pk for pk, status in rows if status == source],
                }
            )
        moved_ids.extend(ids)
    if moved_ids:
        audit_record_bulk(
            action="contract.status_advanced",
            model=Contract,
            ids=moved_ids,
            fields=ADVANCE_DIGEST_FIELDS,
            object_type=Contract._meta.label_lower,
            extra={
                "on": on,
                "activated": counts[ContractStatus.ACTIVE],
                "ended": counts[ContractStatus.ENDED],
                "moves": moves,
            },
        )
    return {"activated": counts[ContractStatus.ACTIVE], "ended": counts[ContractStatus.ENDED]}
