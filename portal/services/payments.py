"""Pay now: the customer asks for an open charge to be collected at once.

The collection itself is payments' :func:`charge_collect` with ``force`` (the
staff "retry now"): prepaid balance first, then an attempt through the contract's
payment method, with the gateway called outside any transaction. What the customer
then has to do (scan a QR code, open a pay link, remit with a reference) is the
attempt's customer action, shown on the charge's page.

Charges of contracts paid by direct debit are not offered: they are taken under
the mandate on their due date, and a second way of paying them would race it.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from billing.choices import COLLECTABLE_STATUSES
from billing.models import Charge
from contracts.models import Customer
from feemgmt.core.exceptions import BusinessError
from payments.adapters import get_adapter
from payments.adapters.sandbox import SandboxAdapter, sandbox_settle
from payments.choices import AttemptStatus
from payments.services.collection import Outcome, charge_collect

# The methods a customer can pay with on the charge's page.
PAY_NOW_METHODS = frozenset({"sandbox", "alipay", "wechat_pay", "bank_transfer"})


def _charge(customer: Customer, charge_id: int) -> Charge:
    charge = (
        Charge.objects.select_related("contract")
        .filter(pk=charge_id, contract__customer=customer)
        .first()
    )
    if charge is None:
        raise Charge.DoesNotExist
    return charge


def portal_charge_pay(*, customer: Customer, charge_id: int) -> Outcome:
    """Collect the customer's open charge now; ``Charge.DoesNotExist`` for a charge
    that is not theirs. Not one transaction on purpose: the gateway is called
    between the attempt's commit and the recording of its answer."""
    charge = _charge(customer, charge_id)
    if charge.status not in COLLECTABLE_STATUSES:
        raise BusinessError({"charge": [_("This charge is not open: there is nothing to pay.")]})
    if charge.contract.payment_method not in PAY_NOW_METHODS:
        raise BusinessError(
            {"charge": [_("This charge is collected by direct debit on its due date.")]}
        )
    return charge_collect(charge.pk, force=True)


def sandbox_pending_key(charge: Charge) -> str | None:
    """The key of the charge's pending attempt at a sandbox gateway, if any."""
    attempt = charge.attempts.filter(status=AttemptStatus.PENDING).order_by("-number").first()
    if attempt is None or not isinstance(get_adapter(attempt.method), SandboxAdapter):
        return None
    return attempt.idempotency_key


def portal_sandbox_complete(*, customer: Customer, charge_id: int) -> Outcome:
    """Demo and tests only: play the customer scanning the sandbox QR code and paying,
    then collect, so the charge's page shows the payment as a real gateway would
    once its notification or query came back. Refused unless the pending attempt
    is at a sandbox gateway."""
    charge = _charge(customer, charge_id)
    key = sandbox_pending_key(charge)
    if key is None:
        raise BusinessError({"charge": [_("No sandbox payment is waiting for this charge.")]})
    sandbox_settle(key)
    return charge_collect(charge.pk, force=True)
