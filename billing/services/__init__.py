"""Billing's services, by sub-domain: the billing run (``run``), a charge's status
changes (``charges``) and cutting charges at a termination (``termination``).

The public names are re-exported here, so ``from billing.services import …`` is
the one way in for the layers above.
"""

from contracts.services import contracts_advance_status

from .charges import (
    CHARGE_TRANSITIONS,
    charge_cancel,
    charge_fail,
    charge_lock,
    charge_mark_overdue,
    charge_reopen,
    charge_reprice,
    charge_resume,
    charge_settle,
    charge_write_off,
    charges_settle,
    check_charge_transition,
)
from .run import (
    BILLING_ACTOR,
    BULK_FIELDS,
    FEE_COLUMNS,
    BillingRunResult,
    BillingTotals,
    billing_actor,
    billing_chunks,
    billing_due_fee_count,
    billing_run,
    billing_run_chunk,
    billing_run_contract,
    check_billing_date,
    due_for_fee,
)
from .termination import charges_cut_at_termination

__all__ = [
    "BILLING_ACTOR",
    "BULK_FIELDS",
    "CHARGE_TRANSITIONS",
    "FEE_COLUMNS",
    "BillingRunResult",
    "BillingTotals",
    "billing_actor",
    "billing_chunks",
    "billing_due_fee_count",
    "billing_run",
    "billing_run_chunk",
    "billing_run_contract",
    "charge_cancel",
    "charge_fail",
    "charge_lock",
    "charge_mark_overdue",
    "charge_reopen",
    "charge_reprice",
    "charge_resume",
    "charge_settle",
    "charge_write_off",
    "charges_cut_at_termination",
    "charges_settle",
    "check_billing_date",
    "check_charge_transition",
    "contracts_advance_status",
    "due_for_fee",
]
