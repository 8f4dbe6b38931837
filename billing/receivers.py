"""Billing's reactions to contract events (contracts may not import billing)."""

from django.dispatch import receiver

from contracts.events import contract_signed, contract_terminated

from .services import billing_run_contract, charges_cut_at_termination
from .services.amendments import amendments_end_with_contract


@receiver(contract_signed, dispatch_uid="billing.contract_signed")
def bill_signed_contract(sender, contract, on, bill_now=True, **kwargs):
    if bill_now:
        billing_run_contract(contract=contract, on=on)


@receiver(contract_terminated, dispatch_uid="billing.contract_terminated")
def cut_terminated_contract(sender, contract, **kwargs):
    charges_cut_at_termination(contract=contract)
    amendments_end_with_contract(contract=contract)
