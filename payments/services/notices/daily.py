"""The direct-debit notices and the daily run that sends them: a debit a few days
before it is taken, and a mandate about to run out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.selectors import fee_next_charge
from contracts.choices import ContractStatus, SigningTreatment
from contracts.models import Customer, Fee
from feemgmt.core.money import Money
from ledger.choices import AccountPurpose
from ledger.selectors import balances_for_customer
from payments.adapters.base import mask_account
from payments.choices import MandateStatus
from payments.models import Mandate

from .sending import (
    DEBIT_METHOD,
    MANDATE_EXPIRING,
    MANDATE_EXPIRY_NOTICE_DAYS,
    UPCOMING_DEBIT,
    format_amount,
    format_date,
    logger,
    send_once,
)

# --- Direct debit notices -------------------------------------------------------------------


def _debit_mandate(customer: Customer, on: dt.date) -> Mandate | None:
    """The active mandate a debit on ``on`` is taken under (as collection picks it)."""
    return (
        Mandate.objects.filter(customer=customer, status=MandateStatus.ACTIVE)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
        .first()
    )


def _upcoming_debit_amount(fee: Fee) -> Money | None:
    """What collection will debit for the fee's next charge: the charge as billing
    will compute it (a period the service end cuts is prorated), less what the
    customer's prepaid balance holds today, which collection spends first (a fee
    charge only: a prepayment or deposit is not paid from the balance)."""
    spec = fee_next_charge(fee.pk)
    if spec is None:
        return None
    amount = spec.amount
    if (fee.treatment or SigningTreatment.FEE) == SigningTreatment.FEE and amount.amount > 0:
        prepaid = balances_for_customer(
            customer_id=fee.contract.customer_id, currency=amount.currency.code
        )[AccountPurpose.PREPAID]
        spent = min(max(prepaid.amount, Decimal(0)), amount.amount)
        amount = amount - Money(spent, amount.currency)
    return amount


def upcoming_debit(fee_id: int, on: dt.date) -> bool:
    """Tell a customer, before the debit, what will be taken from their account, when,
    and under which mandate (sent once per fee and debit date). The amount is what
    will be debited, not the fee: nothing is sent when nothing will be."""
    fee = Fee.objects.select_related("contract__customer").get(pk=fee_id)
    contract = fee.contract
    debit_on = fee.next_due_date
    if (
        debit_on is None
        or debit_on < on
        or contract.payment_method != DEBIT_METHOD
        or contract.status not in (ContractStatus.SIGNED, ContractStatus.ACTIVE)
    ):
        return False
    customer = contract.customer
    amount = _upcoming_debit_amount(fee)
    if amount is None or amount.amount <= 0:
        # Nothing will be debited: the period is not billed, or the prepaid balance
        # pays it all.
        logger.info("no debit notice for fee %s on %s: nothing to debit", fee_id, debit_on)
        return False
    mandate = _debit_mandate(customer, debit_on)
    if mandate is None:
        # Nothing will be debited: collection blocks the charge and alerts staff.
        logger.warning(
            "no debit notice for fee %s: customer %s has no mandate valid on %s",
            fee_id,
            customer.code,
            debit_on,
        )
        return False

    def build():
        subject = _("Direct debit of %(amount)s on %(date)s for contract %(contract)s") % {
            "amount": format_amount(amount),
            "date": format_date(debit_on),
            "contract": contract.number,
        }
        facts = [(_("Contract"), contract.number), (_("Item"), str(fee.get_kind_display()))]
        if fee.cycle:
            facts.append((_("Billing cycle"), str(fee.get_cycle_display())))
        facts += [
            (_("Amount"), format_amount(amount)),
            (_("Debit date"), format_date(debit_on)),
            (_("Mandate reference"), mandate.reference),
            (_("Account holder"), mandate.debtor_name),
            (_("Debited account"), mask_account(mandate.debtor_iban)),
        ]
        return subject, {
            "contract": contract.number,
            "debit_on": format_date(debit_on),
            "mandate_reference": mandate.reference,
            "facts": facts,
        }

    return send_once(
        kind=UPCOMING_DEBIT, key=f"{fee_id}:{debit_on.isoformat()}", customer=customer, build=build
    )


def mandate_expiring(mandate_id: int) -> bool:
    """Ask for a new mandate before this one's ``valid_until`` (once per expiry date)."""
    mandate = Mandate.objects.select_related("customer").get(pk=mandate_id)
    if mandate.status != MandateStatus.ACTIVE or mandate.valid_until is None:
        return False
    valid_until = mandate.valid_until

    def build():
        subject = _("Your direct debit mandate %(reference)s expires on %(date)s") % {
            "reference": mandate.reference,
            "date": format_date(valid_until),
        }
        facts = [
            (_("Mandate reference"), mandate.reference),
            (_("Account holder"), mandate.debtor_name),
            (_("Debited account"), mask_account(mandate.debtor_iban)),
            (_("Valid until"), format_date(valid_until)),
        ]
        return subject, {
            "valid_until": format_date(valid_until),
            "mandate_reference": mandate.reference,
            "facts": facts,
        }

    return send_once(
        kind=MANDATE_EXPIRING,
        key=f"{mandate_id}:{valid_until.isoformat()}",
        customer=mandate.customer,
        build=build,
    )


# --- The daily run ------------------------------------------------------------------------


def upcoming_debit_fee_ids(on: dt.date) -> list[int]:
    """Fees of signed or active direct-debit contracts debited
    ``AUTO_DEBIT_PRENOTIFY_DAYS`` after ``on``."""
    debit_on = on + dt.timedelta(days=settings.AUTO_DEBIT_PRENOTIFY_DAYS)
    return list(
        Fee.objects.filter(
            next_due_date=debit_on,
            contract__payment_method=DEBIT_METHOD,
            contract__status__in=[ContractStatus.SIGNED, ContractStatus.ACTIVE],
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def expiring_mandate_ids(on: dt.date) -> list[int]:
    """Active mandates whose last valid day is between ``on`` and
    ``MANDATE_EXPIRY_NOTICE_DAYS`` later (both included)."""
    return list(
        Mandate.objects.filter(
            status=MandateStatus.ACTIVE,
            valid_until__gte=on,
            valid_until__lte=on + dt.timedelta(days=MANDATE_EXPIRY_NOTICE_DAYS),
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def _sent(notice: Callable[..., bool], *args: Any) -> bool:
    """One notice of the daily run; an error is logged and the run goes on."""
    try:
        return notice(*args)
    except Exception:
        logger.exception("notice %s%r failed", notice.__name__, args)
        return False


def send_daily_notices(on: dt.date | None = None) -> dict[str, int]:
    """Send the day's direct debit pre-notifications and mandate reminders (each once,
    however often this runs); returns how many of each were sent."""
    on = on or timezone.localdate()
    return {
        UPCOMING_DEBIT: sum(
            _sent(upcoming_debit, fee_id, on) for fee_id in upcoming_debit_fee_ids(on)
        ),
        MANDATE_EXPIRING: sum(
            _sent(mandate_expiring, mandate_id) for mandate_id in expiring_mandate_ids(on)
        ),
    }
