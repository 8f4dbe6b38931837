"""Payments' reactions to billing and contracts: new charges go to collection after
commit, a charge a termination cuts is taken off collection first, and a terminated
contract holding a deposit raises the alert to release it."""

from functools import partial

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver

from billing.events import charge_cutting, charges_billed
from contracts.events import contract_terminated


@receiver(charges_billed, dispatch_uid="payments.collect_billed_charges")
def collect_billed_charges(sender, charge_ids, on, **kwargs):
    if settings.PAYMENT_COLLECT_AFTER_BILLING:
        from payments.tasks import enqueue_collection

        transaction.on_commit(partial(enqueue_collection, list(charge_ids), on))


@receiver(charge_cutting, dispatch_uid="payments.release_cut_charge")
def release_cut_charge(sender, charge, cancel, on, **kwargs):
    from payments.services.termination import charge_cut_release

    charge_cut_release(charge=charge, cancel=cancel, on=on)


@receiver(contract_terminated, dispatch_uid="payments.deposit_held_at_termination")
def deposit_held_at_termination(sender, contract, **kwargs):
    from payments.services.deposits import deposit_check_at_termination

    deposit_check_at_termination(contract)
