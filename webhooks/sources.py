"""Which audit events become which webhook events.

Every change in the project records an audit event in its own transaction
(``audit.services``); the outbox listens to those instead of to each service, so a
new path to a change (a bulk settlement, a staff action) is covered as soon as it
is audited. An audit event names one object (``object_type``/``object_id``) or
many rows (``bulk["ids"]`` of ``bulk["model"]``); both become one webhook event per
object.

Only the events below are sent. ``model`` is the audit label of the objects the
action is about (``audit.services.label_of``): an action recorded about another
model is not this source.
"""

from __future__ import annotations

from dataclasses import dataclass

from .choices import EventType


@dataclass(frozen=True)
class Source:
    type: str
    model: str


# audit action → the webhook event it is, and the objects it is about. The
# comments say where each is recorded (single row, or bulk).
SOURCES: dict[str, Source] = {
    # billing.services.run._bill_fee_rows: bulk, one event per billing chunk
    # (the run and a signing's immediate billing alike)
    "billing.chunk": Source(EventType.CHARGE_CREATED, "billing.charge"),
    # billing.services.charges.charge_settle (single) and charges_settle (bulk:
    # a collection batch, a statement's transfers)
    "charge.paid": Source(EventType.CHARGE_PAID, "billing.charge"),
    "charge.failed": Source(EventType.CHARGE_FAILED, "billing.charge"),
    "charge.overdue": Source(EventType.CHARGE_OVERDUE, "billing.charge"),
    "charge.cancelled": Source(EventType.CHARGE_CANCELLED, "billing.charge"),
    # payments.services.attempts: attempt_succeed (single), attempts_succeed and
    # attempts_answer (bulk)
    "attempt.succeeded": Source(EventType.PAYMENT_RECEIVED, "payments.paymentattempt"),
    "attempt.returned": Source(EventType.PAYMENT_RETURNED, "payments.paymentattempt"),
    # payments.services.refunds._refund_transition
    "refund.succeeded": Source(EventType.REFUND_SUCCEEDED, "payments.refund"),
    "refund.failed": Source(EventType.REFUND_FAILED, "payments.refund"),
    # the fee amendments' consent (in the portal, or a staff-attached paper one)
    "amendment.consented": Source(EventType.AMENDMENT_CONSENTED, "billing.feeamendment"),
    # alerts.services.raising: alert_raise (single), alerts_raise_many (bulk, under
    # the caller's action: a statement's overpayments, the risk rules)
    "alert.raised": Source(EventType.ALERT_OPENED, "alerts.alert"),
    "alerts.raised": Source(EventType.ALERT_OPENED, "alerts.alert"),
    "risk.alerts_raised": Source(EventType.ALERT_OPENED, "alerts.alert"),
    # reconciliation.services.runs.reconciliation_run_sign_off
    "reconciliation_run.signed_off": Source(
        EventType.RECONCILIATION_SIGNED_OFF, "reconciliation.reconciliationrun"
    ),
    # contracts.services.lifecycle
    "contract.signed": Source(EventType.CONTRACT_SIGNED, "contracts.contract"),
    "contract.terminated": Source(EventType.CONTRACT_TERMINATED, "contracts.contract"),
    # payments.services.mandates
    "mandate.created": Source(EventType.MANDATE_CREATED, "payments.mandate"),
    "mandate.revoked": Source(EventType.MANDATE_REVOKED, "payments.mandate"),
}


def source_of(action: str) -> Source | None:
    return SOURCES.get(action)


def object_ids(event, source: Source) -> list[str]:
    """The ids of the objects an audit event is about, when they are of the
    source's model."""
    bulk = event.bulk
    if bulk:
        if bulk.get("model") != source.model:
            return []
        return [str(pk) for pk in bulk.get("ids", ())]
    if event.object_type != source.model or not event.object_id:
        return []
    return [event.object_id]
