"""Reconciliation runs: an account and a period, the statement against the books.

For a bank account the books are its cash account; for a gateway, the clearing
account of its payment method. The statement total is the sum of the lines booked
in the period; the difference is what the books do not yet explain (unmatched lines,
suggestions not yet confirmed). A run is prepared by one person and signed off by
another — the database refuses the same user — and is then frozen; only a finance
manager reopens it, with a reason, and it is prepared again from the current figures.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from feemgmt.core.exceptions import BusinessError, InvalidTransition
from feemgmt.core.money import money_from_db
from ledger.cash import PAYOUT_KINDS, cash_account, movements
from ledger.choices import AccountPurpose
from ledger.services import account_for

from ..choices import RUN_TRANSITIONS, AccountKind, DiscrepancyStatus, RunStatus
from ..events import run_prepared
from ..models import BankAccount, Discrepancy, ReconciliationRun, Statement, StatementLine

REOPEN_PERMISSION = "reconciliation.reopen_reconciliationrun"
SIGN_OFF_PERMISSION = "reconciliation.sign_off_reconciliationrun"


def _check(run: ReconciliationRun, target: str) -> None:
    if target not in RUN_TRANSITIONS[run.status]:
        raise InvalidTransition(
            {
                "status": [
                    _("A run that is %(current)s cannot become %(target)s.")
                    % {"current": run.get_status_display(), "target": RunStatus(target).label}
                ]
            }
        )


def _figures(account: BankAccount, start: dt.date, end: dt.date) -> dict:
    lines = StatementLine.objects.filter(
        account=account, booked_on__gte=start, booked_on__lte=end
    ).aggregate(total=Sum("amount"), fees=Sum("fee"), count=Count("id"))
    currency = account.currency
    statement_total = money_from_db(lines["total"], currency)
    if account.kind == AccountKind.BANK:
        books = movements(cash_account(account.code, currency), start=start, end=end)
    else:
        # a gateway's bill lines are gross and its fees leave clearing too; payouts are
        # the bank statement's business
        statement_total -= money_from_db(lines["fees"], currency)
        clearing = account_for(
            purpose=AccountPurpose.CLEARING, currency=currency, payment_method=account.kind
        )
        books = movements(clearing, start=start, end=end, exclude_kinds=PAYOUT_KINDS)
    statements = Statement.objects.filter(
        account=account, period_end__gte=start, period_start__lte=end
    ).order_by("period_start", "id")
    first, last = statements.first(), statements.last()
    open_discrepancies = Discrepancy.objects.filter(
        account=account, status=DiscrepancyStatus.OPEN
    ).count()
    return {
        "currency": currency,
        "opening_balance": first.opening_balance if first else None,
        "closing_balance": last.closing_balance if last else None,
        "statement_total": statement_total.amount,
        "ledger_total": books.amount,
        "difference": (statement_total - books).amount,
        "lines": lines["count"] or 0,
        "open_discrepancies": open_discrepancies,
    }


def reconciliation_run_prepare(
    *, account: BankAccount, period_start: dt.date, period_end: dt.date, by
) -> ReconciliationRun:
    """Compute the run for an account and period (again, if it is not signed off)."""
    if period_end < period_start:
        raise BusinessError({"period_end": [_("The period ends before it starts.")]})
    with transaction.atomic():
        run = (
            ReconciliationRun.objects.select_for_update()
            .filter(account=account, period_start=period_start, period_end=period_end)
            .first()
        )
        figures = _figures(account, period_start, period_end)
        now = timezone.now()
        if run is None:
            try:
                with transaction.atomic():
                    run = ReconciliationRun.objects.create(
                        account=account,
                        period_start=period_start,
                        period_end=period_end,
                        prepared_by=by,
                        prepared_at=now,
                        **figures,
                    )
            except IntegrityError as error:
                raise BusinessError(
                    {"period_start": [_("This period is being prepared by someone else.")]}
                ) from error
            before = {}
        else:
            _check(run, RunStatus.PREPARED)
            before = {"status": run.status, **{name: getattr(run, name) for name in figures}}
            for name, value in figures.items():
                setattr(run, name, value)
            run.status = RunStatus.PREPARED
            run.prepared_by = by
            run.prepared_at = now
            run.save()
        after = {"status": run.status, "prepared_by": by.pk, **figures}
        audit_record(
            action="reconciliation_run.prepared",
            obj=run,
            changes={
                name: [before.get(name), value]
                for name, value in after.items()
                if before.get(name) != value
            },
        )
        run_prepared.send(sender=ReconciliationRun, run_id=run.pk)
        return run


def reconciliation_run_sign_off(*, run: ReconciliationRun, by) -> ReconciliationRun:
    """A second person agrees with the figures; the run is frozen from now on."""
    if not by.has_perm(SIGN_OFF_PERMISSION):
        raise BusinessError({"run": [_("You may not sign off reconciliation runs.")]})
    with transaction.atomic():
        run = ReconciliationRun.objects.select_for_update().get(pk=run.pk)
        _check(run, RunStatus.SIGNED_OFF)
        if run.prepared_by_id == by.pk:
            raise BusinessError(
                {
                    "run": [
                        _("A reconciliation run is signed off by someone other than its preparer.")
                    ]
                }
            )
        run.status = RunStatus.SIGNED_OFF
        run.signed_off_by = by
        run.signed_off_at = timezone.now()
        run.save(update_fields=["status", "signed_off_by", "signed_off_at", "updated_at"])
        audit_record(
            action="reconciliation_run.signed_off",
            obj=run,
            changes={"status": [RunStatus.PREPARED, run.status], "signed_off_by": [None, by.pk]},
        )
        return run


def reconciliation_run_reopen(*, run: ReconciliationRun, by, reason: str) -> ReconciliationRun:
    """Undo a sign-off (a late statement, a mistake found): a finance manager, with a reason."""
    if not by.has_perm(REOPEN_PERMISSION):
        raise BusinessError({"run": [_("Only a finance manager may reopen a signed-off run.")]})
    if not reason.strip():
        raise BusinessError({"reason": [_("Say why the run is reopened.")]})
    with transaction.atomic():
        run = ReconciliationRun.objects.select_for_update().get(pk=run.pk)
        _check(run, RunStatus.REOPENED)
        run.status = RunStatus.REOPENED
        run.reopened_by = by
        run.reopen_reason = reason.strip()
        run.save(update_fields=["status", "reopened_by", "reopen_reason", "updated_at"])
        audit_record(
            action="reconciliation_run.reopened",
            obj=run,
            changes={
                "status": [RunStatus.SIGNED_OFF, run.status],
                "reopened_by": [None, by.pk],
                "reopen_reason": ["", run.reopen_reason],
            },
        )
        return run
