"""The demo book written set-based: a large book (a million contracts) in minutes.

Through the services a contract costs a dozen statements and three audit events
(created, signed, terminated): about a hundred contracts a second. Here the same
plan is written a batch at a time — its customers, contracts and fees each by one
multi-row insert (``COPY`` on PostgreSQL) — with the values the services would
have written: fee values checked by :func:`contracts.services.fee_values`, the
status signing and termination give (active once service has begun, terminated
with its new last day), each fee's first due date by
:func:`contracts.services.first_due` and cleared by a termination it falls after,
as the billing side does for a contract never billed. ``test_demo_seed`` holds a
sample to the rows the services write.

Each batch records one bulk audit event per table (``customers.loaded``,
``contracts.loaded``, ``fees.loaded``; docs/audit.md) instead of an event per row,
as every bulk write does. Contracts and customers already there are skipped, so
a second run, or a larger one, adds only what is missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record_bulk
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.sql import allocate_ids, insert_rows

from ..choices import ContractStatus, FeeKind
from ..models import Contract, Customer, Fee
from ..services import check_dates, check_signing, check_termination, fee_values, first_due
from .plan import ContractSpec

BATCH = 10_000

_CUSTOMER_COLUMNS = (
    "id",
    "code",
    "name",
    "email",
    "currency",
    "credit_code",
    "created_at",
    "updated_at",
)
_CONTRACT_COLUMNS = (
    "id",
    "number",
    "customer_id",
    "currency",
    "service_start",
    "service_end",
    "alignment",
    "proration",
    "payment_method",
    "status",
    "signed_on",
    "terminated_at",
    "created_at",
    "updated_at",
)
_FEE_COLUMNS = (
    "contract_id",
    "kind",
    "amount",
    "amount_currency",
    "cycle",
    "treatment",
    "next_due_date",
)
# What the bulk events digest: what never changes once loaded.
_CUSTOMER_DIGEST = ("code", "currency")
_CONTRACT_DIGEST = ("number", "customer", "currency", "service_start", "signed_on")
_FEE_DIGEST = ("contract", "kind", "amount", "amount_currency", "cycle", "treatment")


@dataclass
class SeedStats:
    customers: int = 0
    customers_existing: int = 0
    contracts: int = 0
    contracts_existing: int = 0
    fees: int = 0


def demo_seed(specs: Iterable[ContractSpec], *, batch: int = BATCH) -> SeedStats:
    """Write the contracts of ``specs`` (and their customers) a batch at a time, each
    batch in its own transaction."""
    stats = SeedStats()
    customers: dict[str, int] = {}
    for chunk in _chunks(iter(specs), batch):
        with transaction.atomic():
            _write(chunk, customers, stats)
    return stats


def _chunks(specs: Iterator[ContractSpec], size: int) -> Iterator[list[ContractSpec]]:
    while chunk := list(islice(specs, size)):
        yield chunk


def _write(specs: Sequence[ContractSpec], customers: dict[str, int], stats: SeedStats) -> None:
    today = timezone.localdate()
    now = timezone.now()
    there = set(
        Contract.objects.filter(number__any=[s.number for s in specs]).values_list(
            "number", flat=True
        )
    )
    stats.contracts_existing += len(there)
    named = {spec.customer.code: spec.customer for spec in specs}
    specs = [spec for spec in specs if spec.number not in there]
    found = dict(
        Customer.objects.filter(code__any=named.keys() - customers.keys()).values_list("code", "pk")
    )
    stats.customers_existing += len(found)
    customers.update(found)
    needed = {spec.customer.code for spec in specs}
    new = [customer for code, customer in named.items() if code in needed and code not in customers]
    ids = allocate_ids(Customer, len(new))
    insert_rows(
        Customer,
        _CUSTOMER_COLUMNS,
        [
            (pk, c.code, c.name, c.email, c.currency, c.credit_code, now, now)
            for pk, c in zip(ids, new, strict=True)
        ],
    )
    customers.update((c.code, pk) for pk, c in zip(ids, new, strict=True))
    contract_ids = allocate_ids(Contract, len(specs))
    contracts, fees = [], []
    for pk, spec in zip(contract_ids, specs, strict=True):
        _check(spec, today)
        status, end, terminated_at = _state(spec, today, now)
        contracts.append(
            (
                pk,
                spec.number,
                customers[spec.customer.code],
                spec.customer.currency,
                spec.service_start,
                end,
                spec.alignment,
                spec.proration,
                spec.payment_method,
                status,
                spec.signed_on,
                terminated_at,
                now,
                now,
            )
        )
        fees += _fees(pk, spec, end)
    insert_rows(Contract, _CONTRACT_COLUMNS, contracts)
    fee_ids = [pk for (pk,) in insert_rows(Fee, _FEE_COLUMNS, fees, returning=("id",))]
    stats.customers += len(ids)
    stats.contracts += len(contract_ids)
    stats.fees += len(fee_ids)
    for action, model, rows, fields in (
        ("customers.loaded", Customer, ids, _CUSTOMER_DIGEST),
        ("contracts.loaded", Contract, contract_ids, _CONTRACT_DIGEST),
        ("fees.loaded", Fee, fee_ids, _FEE_DIGEST),
    ):
        if rows:
            audit_record_bulk(
                action=action,
                model=model,
                ids=rows,
                fields=fields,
                object_type=model._meta.label_lower,
                extra={"rows": len(rows)},
            )


def _check(spec: ContractSpec, today: dt.date) -> None:
    """What the services would refuse of this contract, refused here too (the
    whole batch is then written nothing of)."""
    try:
        if not spec.fees:
            raise BusinessError({"fees": [_("A contract needs at least one fee.")]})
        check_dates(spec.service_start, spec.service_end)
        if spec.signed_on is not None:
            check_signing(spec.signed_on, service_end=spec.service_end, today=today)
            if spec.terminate_on is not None:
                check_termination(
                    spec.terminate_on, signed_on=spec.signed_on, service_end=spec.service_end
                )
    except BusinessError as error:
        raise BusinessError({spec.number: error.detail}) from error


def _state(
    spec: ContractSpec, today: dt.date, now: dt.datetime
) -> tuple[str, dt.date | None, dt.datetime | None]:
    """(status, last day of service, termination time) as signing and terminating
    through the services leave a contract."""
    if spec.signed_on is None:
        return ContractStatus.DRAFT.value, spec.service_end, None
    if spec.terminate_on is not None:
        return ContractStatus.TERMINATED.value, spec.terminate_on, now
    if spec.service_start <= today:
        return ContractStatus.ACTIVE.value, spec.service_end, None
    return ContractStatus.SIGNED.value, spec.service_end, None


def _fees(contract_id: int, spec: ContractSpec, end: dt.date | None) -> list[tuple]:
    rows = []
    for fee in spec.fees:
        values, errors = fee_values(fee, spec.customer.currency)
        if errors:
            raise BusinessError({"fees": errors})
        due = _first_due(fee.kind, spec, end)
        rows.append(
            (
                contract_id,
                values["kind"],
                values["amount"].amount,
                values["amount"].currency.code,
                values["cycle"],
                values["treatment"],
                due,
            )
        )
    return rows


def _first_due(kind: str, spec: ContractSpec, end: dt.date | None) -> dt.date | None:
    """The fee's bookmark after signing, then after a termination, which clears one
    falling after the new last day (as for a contract never billed)."""
    if spec.signed_on is None:
        return None
    due = first_due(
        kind,
        signed_on=spec.signed_on,
        service_start=spec.service_start,
        service_end=spec.service_end,
    )
    if spec.terminate_on is not None and kind != FeeKind.SIGNING and due and due > end:
        return None
    return due
