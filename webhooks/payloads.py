"""The ``data`` of each webhook event, read set-based: one query for all the
objects of an audit event (a billing chunk's thousands of charges included).

What an integrator needs to act without calling back: ids (and the customer's
and contract's references), amounts as strings with their currency, statuses,
dates in ISO 8601. Read inside the transaction of the change, so ``status`` is
the status the change left.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal

from django.apps import apps

from feemgmt.core.money import quantize


def _text(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _amount(value, currency: str | None) -> str | None:
    if value is None:
        return None
    return str(quantize(value, currency).amount) if currency else str(value)


def _rows(label: str, ids: Iterable[str], columns: dict[str, str]) -> dict[str, dict]:
    """``{id: {key: value}}`` for ``columns`` (``key → ORM path``) of the rows."""
    model = apps.get_model(label)
    pks = [model._meta.pk.to_python(pk) for pk in ids]
    found = {}
    for row in model._default_manager.filter(pk__in=pks).values("pk", *columns.values()):
        found[str(row["pk"])] = {key: _text(row[path]) for key, path in columns.items()}
    return found


def _money(data: dict, *names: str, currency: str = "currency") -> dict:
    for name in names:
        data[name] = _amount(data[name], data[currency])
    return data


CHARGE = {
    "id": "id",
    "customer_id": "contract__customer_id",
    "customer_code": "contract__customer__code",
    "contract_id": "contract_id",
    "contract_number": "contract__number",
    "fee_id": "fee_id",
    "kind": "kind",
    "period_start": "period_start",
    "period_end": "period_end",
    "due_date": "due_date",
    "amount": "amount",
    "currency": "amount_currency",
    "prorated": "prorated",
    "status": "status",
}


def charges(ids):
    return {k: _money(v, "amount") for k, v in _rows("billing.charge", ids, CHARGE).items()}


PAYMENT = {
    "id": "id",
    "charge_id": "charge_id",
    "customer_id": "charge__contract__customer_id",
    "customer_code": "charge__contract__customer__code",
    "contract_number": "charge__contract__number",
    "number": "number",
    "method": "method",
    "amount": "amount",
    "currency": "amount_currency",
    "status": "status",
    "provider_reference": "provider_reference",
    "error_code": "error_code",
    "decided_at": "decided_at",
}


def payments(ids):
    rows = _rows("payments.paymentattempt", ids, PAYMENT)
    return {k: _money(v, "amount") for k, v in rows.items()}


REFUND = {
    "id": "id",
    "payment_id": "attempt_id",
    "charge_id": "attempt__charge_id",
    "customer_id": "attempt__charge__contract__customer_id",
    "customer_code": "attempt__charge__contract__customer__code",
    "amount": "amount",
    "currency": "amount_currency",
    "source": "source",
    "status": "status",
    "provider_reference": "provider_reference",
    "error_code": "error_code",
    "created_at": "created_at",
}


def refunds(ids):
    return {k: _money(v, "amount") for k, v in _rows("payments.refund", ids, REFUND).items()}


ALERT = {
    "id": "id",
    "kind": "kind",
    "severity": "severity",
    "status": "status",
    "subject": "subject",
    "customer_id": "customer_id",
    "message": "message",
    "created_at": "created_at",
}


def alerts(ids):
    return _rows("alerts.alert", ids, ALERT)


RUN = {
    "id": "id",
    "account_id": "account_id",
    "period_start": "period_start",
    "period_end": "period_end",
    "currency": "currency",
    "opening_balance": "opening_balance",
    "closing_balance": "closing_balance",
    "statement_total": "statement_total",
    "ledger_total": "ledger_total",
    "difference": "difference",
    "lines": "lines",
    "open_discrepancies": "open_discrepancies",
    "status": "status",
    "signed_off_at": "signed_off_at",
}


def runs(ids):
    names = ("opening_balance", "closing_balance", "statement_total", "ledger_total", "difference")
    rows = _rows("reconciliation.reconciliationrun", ids, RUN)
    return {k: _money(v, *names) for k, v in rows.items()}


CONTRACT = {
    "id": "id",
    "number": "number",
    "customer_id": "customer_id",
    "customer_code": "customer__code",
    "currency": "currency",
    "service_start": "service_start",
    "service_end": "service_end",
    "payment_method": "payment_method",
    "status": "status",
    "signed_on": "signed_on",
    "terminated_at": "terminated_at",
}


def contracts(ids):
    return _rows("contracts.contract", ids, CONTRACT)


MANDATE = {
    "id": "id",
    "customer_id": "customer_id",
    "customer_code": "customer__code",
    "reference": "reference",
    "signed_on": "signed_on",
    "valid_until": "valid_until",
    "limit": "limit",
    "currency": "limit_currency",
    "status": "status",
    "revoked_at": "revoked_at",
}


def mandates(ids):
    return {k: _money(v, "limit") for k, v in _rows("payments.mandate", ids, MANDATE).items()}


AMENDMENT = {
    "id": "id",
    "customer_id": "contract__customer_id",
    "customer_code": "contract__customer__code",
    "contract_id": "contract_id",
    "contract_number": "contract__number",
    "fee_id": "fee_id",
    "old_amount": "old_amount",
    "new_amount": "new_amount",
    "currency": "new_amount_currency",
    "effective_from": "effective_from",
    "status": "status",
    "decided_at": "decided_at",
    "channel": "decision__channel",
}


def amendments(ids):
    """A fee change (docs/amendments.md): old and new amount, from when, and how the
    customer decided."""
    rows = _rows("billing.feeamendment", ids, AMENDMENT)
    return {k: _money(v, "old_amount", "new_amount") for k, v in rows.items()}


BUILDERS: dict[str, Callable[[Iterable[str]], dict[str, dict]]] = {
    "billing.charge": charges,
    "payments.paymentattempt": payments,
    "payments.refund": refunds,
    "alerts.alert": alerts,
    "reconciliation.reconciliationrun": runs,
    "contracts.contract": contracts,
    "payments.mandate": mandates,
    "billing.feeamendment": amendments,
}
