"""The notices collection sends: a receipt, a failure notice, a payment request."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from payments.adapters.bank_transfer import remittance_reference
from payments.adapters.base import ActionKind
from payments.choices import OPEN_ATTEMPT_STATUSES, AttemptStatus
from payments.models import PaymentAttempt

from .sending import (
    FAILURE,
    PAYMENT_REQUEST,
    RECEIPT,
    URL,
    already_sent,
    charge_facts,
    compose,
    failure_reason,
    format_amount,
    format_date,
    logger,
    method_label,
    payee_details,
    send_many,
    send_once,
)

# --- Collection notices -------------------------------------------------------------------


_RELATED = ("charge__contract__customer", "charge__fee", "mandate")


def _attempt(attempt_id: int) -> PaymentAttempt:
    return PaymentAttempt.objects.select_related(*_RELATED).get(pk=attempt_id)


def _receipt(attempt: PaymentAttempt):
    """What a receipt says: contract, period, amount, method, gateway reference and
    date."""
    charge = attempt.charge

    def build():
        subject = _("Payment received for contract %(contract)s: %(amount)s") % {
            "contract": charge.contract.number,
            "amount": format_amount(attempt.amount),
        }
        facts = [
            *charge_facts(charge),
            (_("Amount paid"), format_amount(attempt.amount)),
            (_("Payment method"), method_label(attempt.method)),
            (_("Payment date"), format_date(attempt.decided_at or timezone.now())),
            (_("Our reference"), attempt.idempotency_key),
        ]
        if attempt.provider_reference:
            facts.append((_("Gateway reference"), attempt.provider_reference))
        return subject, {"contract": charge.contract.number, "facts": facts}

    return {
        "kind": RECEIPT,
        "key": attempt.idempotency_key,
        "customer": charge.contract.customer,
        "build": build,
    }


def receipt(attempt_id: int) -> bool:
    """The receipt for a successful collection."""
    attempt = _attempt(attempt_id)
    if attempt.status != AttemptStatus.SUCCEEDED:
        logger.info("no receipt for %s: it is %s", attempt.idempotency_key, attempt.status)
        return False
    return send_once(**_receipt(attempt))


def receipts(attempt_ids: list[int]) -> int:
    """The receipts of many successful collections (a collection task's, a
    statement's), each sent once as :func:`receipt` sends it: the attempts read in
    one query, the ones not sent yet recorded by one INSERT and sent over one mail
    connection after commit. Returns how many were sent (or will be, on commit)."""
    attempts = list(
        PaymentAttempt.objects.select_related(*_RELATED)
        .filter(pk__any=sorted(set(attempt_ids)), status=AttemptStatus.SUCCEEDED)
        .order_by("pk")
    )
    sent = already_sent(RECEIPT, [attempt.idempotency_key for attempt in attempts])
    drafts = []
    for attempt in attempts:
        if attempt.idempotency_key not in sent:
            draft = compose(**_receipt(attempt))
            if draft is not None:
                drafts.append(draft)
    return send_many(drafts)


def failure(attempt_id: int, *, retry_on: dt.date | None = None) -> bool:
    """A declined collection: the reason, when it is retried (or that it is not),
    and how to pay meanwhile (a bank transfer quoting the contract, or a top-up of
    the prepaid balance, which the retry uses first)."""
    attempt = _attempt(attempt_id)
    if attempt.status != AttemptStatus.FAILED:
        logger.info("no failure notice for %s: it is %s", attempt.idempotency_key, attempt.status)
        return False
    charge = attempt.charge
    contract = charge.contract

    def build():
        subject = _("Payment failed for contract %(contract)s: %(amount)s") % {
            "contract": contract.number,
            "amount": format_amount(attempt.amount),
        }
        facts = [
            *charge_facts(charge),
            (_("Amount due"), format_amount(attempt.amount)),
            (_("Payment method"), method_label(attempt.method)),
            (_("Reason"), failure_reason(attempt)),
        ]
        payee = payee_details()
        transfer_reference = f"{contract.number}-{charge.pk}"
        transfer = [
            (_("Payee"), payee["account_name"]),
            (_("Bank"), payee["bank_name"]),
            (_("Account number"), payee["account_number"]),
            (_("Amount"), format_amount(attempt.amount)),
            (_("Reference"), transfer_reference),
        ]
        return subject, {
            "contract": contract.number,
            "facts": facts,
            "transfer": transfer,
            "transfer_reference": transfer_reference,
            "retry_on": format_date(retry_on) if retry_on else "",
        }

    return send_once(
        kind=FAILURE, key=attempt.idempotency_key, customer=contract.customer, build=build
    )


def payment_request(attempt_id: int) -> bool:
    """What the customer does to pay a pending collection: scan a QR code, open a pay
    link, or transfer to our account quoting the remittance reference."""
    attempt = _attempt(attempt_id)
    if attempt.status not in OPEN_ATTEMPT_STATUSES or not attempt.action_value:
        logger.info("no payment request for %s: nothing for the customer to do", attempt)
        return False
    if attempt.action_kind not in {kind.value for kind in ActionKind}:
        logger.warning("no payment request for %s: unknown action %r", attempt, attempt.action_kind)
        return False
    charge = attempt.charge
    contract = charge.contract
    action = ActionKind(attempt.action_kind)

    def build():
        subject = _("Payment request for contract %(contract)s: %(amount)s due %(date)s") % {
            "contract": contract.number,
            "amount": format_amount(attempt.amount),
            "date": format_date(charge.due_date),
        }
        facts = [
            *charge_facts(charge),
            (_("Amount due"), format_amount(attempt.amount)),
            (_("Due date"), format_date(charge.due_date)),
        ]
        context: dict[str, Any] = {
            "contract": contract.number,
            "action": action.value,
            "method": method_label(attempt.method),
            "value": attempt.action_value,
            "value_is_link": bool(URL.match(attempt.action_value)),
        }
        if action == ActionKind.PAYMENT_NOTICE:
            payee = payee_details()
            reference = attempt.action_value or remittance_reference(attempt.idempotency_key)
            context["reference"] = reference
            facts += [
                (_("Payee"), payee["account_name"]),
                (_("Bank"), payee["bank_name"]),
                (_("Account number"), payee["account_number"]),
                (_("Remittance reference"), reference),
            ]
        else:
            facts.append((_("Payment method"), method_label(attempt.method)))
        context["facts"] = facts
        return subject, context

    return send_once(
        kind=PAYMENT_REQUEST, key=attempt.idempotency_key, customer=contract.customer, build=build
    )
