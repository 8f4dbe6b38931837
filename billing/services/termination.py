"""Cutting a terminated contract's charges to its new last day (docs/billing.md,
"Contract life cycle")."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from contracts.choices import FeeKind, SigningTreatment
from contracts.models import Contract, Fee
from ledger.postings import post_charge_cancellation, post_charge_change

from .. import calendar
from ..amounts import amount_changes
from ..choices import COLLECTABLE_STATUSES
from ..events import charge_cutting
from ..models import Charge
from .charges import charge_cancel, charge_reprice

HELD_FOR_THE_CUSTOMER = (SigningTreatment.DEPOSIT, SigningTreatment.PREPAYMENT)


@transaction.atomic
def charges_cut_at_termination(*, contract: Contract) -> dict[str, int]:
    """Bring a terminated contract's charges in line with its new last day.

    Every charge still to collect (pending, failed or overdue: a backdated end must
    not leave a declined charge retried at full price) is treated alike: one for a
    period that starts after the end is cancelled; the one of the period the end
    date cuts is shortened and re-priced by the same calendar the billing run uses;
    a service-start fee not yet begun is cancelled, and so is a signing deposit or
    prepayment still unpaid (it would be refunded at once; one paid stays held
    for the deposit release, payments.services.deposits). Before a charge is touched,
    collection is told (``charge_cutting``) and takes off it what it attached, or
    refuses the termination (see payments.services.termination). Charges already
    settled are left alone (refunds belong to collection).

    Each cancelled charge records ``charge.cancelled`` and each re-priced one
    ``charge.repriced`` (with its old and new period end and amount): a termination
    touches a few charges, and an event per charge tells their history one by one.
    """
    end = contract.service_end
    today = timezone.localdate()
    cancelled = recut = 0
    # Locked in the order every writer takes them: fees, then charges by id (then,
    # under each charge, its attempts and the customer's ledger accounts).
    fees = {
        fee.id: fee
        for fee in Fee.objects.select_for_update().filter(contract=contract).order_by("id")
    }
    changes = amount_changes(fees)
    charges = (
        Charge.objects.select_for_update()
        .filter(contract=contract, status__in=COLLECTABLE_STATUSES)
        .order_by("id")
    )
    for charge in charges:
        fee = fees[charge.fee_id]
        never_started = charge.kind == FeeKind.SERVICE_START and end < contract.service_start
        after_end = charge.period_start is not None and charge.period_start > end
        # A deposit or prepayment not yet paid would only be handed back: not asked for.
        unfunded = charge.kind == FeeKind.SIGNING and fee.treatment in HELD_FOR_THE_CUSTOMER
        if never_started or after_end or unfunded:
            charge_cutting.send(sender=Charge, charge=charge, cancel=True, on=today)
            post_charge_cancellation(charge_id=charge.pk, on=today)
            charge_cancel(charge=charge)
            cancelled += 1
        elif charge.period_end is not None and charge.period_end > end:
            charge_cutting.send(sender=Charge, charge=charge, cancel=False, on=today)
            (spec,) = calendar.recurring_charges(
                cycle=fee.cycle,
                alignment=contract.alignment,
                proration=contract.proration,
                amount=fee.amount,
                changes=changes.get(fee.id, ()),
                service_start=contract.service_start,
                service_end=end,
                through=charge.period_start,
                since=charge.period_start,
            )
            post_charge_change(
                customer_id=contract.customer_id,
                charge_id=charge.pk,
                amount=spec.amount,
                on=today,
                treatment=fee.treatment,
            )
            charge_reprice(
                charge=charge,
                period_end=spec.period_end,
                amount=spec.amount,
                prorated=spec.prorated,
            )
            recut += 1
    for fee in fees.values():
        if fee.next_due_date and fee.next_due_date > end and fee.kind != FeeKind.SIGNING:
            fee.next_due_date = None
            fee.save(update_fields=["next_due_date"])
    return {"cancelled": cancelled, "recut": recut}
