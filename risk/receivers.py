"""Risk's reactions to events below it: each evaluates the rules the event affects,
for the ids it touched, in a task after the event's transaction commits (so a
rolled-back change raises nothing, and the change itself waits for no rule)."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver

from audit.events import chain_verified
from billing.events import charges_billed
from payments.events import deduction_failed, mandates_revoked
from reconciliation.events import run_prepared, statement_imported


def _evaluate_after_commit(codes: list[str], scope: dict[str, list[int]] | None) -> None:
    from .tasks import risk_evaluate_task

    transaction.on_commit(lambda: risk_evaluate_task.delay(codes=codes, scope=scope))


@receiver(charges_billed, dispatch_uid="risk.charges_billed")
def check_billed_amounts(sender, charge_ids, on, **kwargs):
    _evaluate_after_commit(["amount_deviation"], {"charge": list(charge_ids)})


@receiver(deduction_failed, dispatch_uid="risk.deduction_failed")
def check_failed_deductions(sender, charge_id, **kwargs):
    _evaluate_after_commit(["failed_deductions"], {"charge": [charge_id]})


@receiver(mandates_revoked, dispatch_uid="risk.mandates_revoked")
def check_revoked_mandates(sender, customer_ids, **kwargs):
    _evaluate_after_commit(["mandate_revoked"], {"customer": list(customer_ids)})


@receiver(statement_imported, dispatch_uid="risk.statement_imported")
def check_statement(sender, statement_id, **kwargs):
    _evaluate_after_commit(["unmatched_payment", "duplicate_payment"], None)


@receiver(run_prepared, dispatch_uid="risk.run_prepared")
def check_run(sender, run_id, **kwargs):
    _evaluate_after_commit(["reconciliation_difference"], {"run": [run_id]})


@receiver(chain_verified, dispatch_uid="risk.chain_verified")
def chain_alert(sender, ok, report, **kwargs):
    from .services import risk_chain_verified

    risk_chain_verified(ok=ok, report=report)
