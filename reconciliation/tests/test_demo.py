"""The demo closes its money loop through the importer: bank transfers are paid by
the bank's statement, lost notifications recovered from Alipay's bill, and the
month's reconciliation is signed off with one discrepancy of each kind to show."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from audit.verification import audit_chain_verify
from ledger.choices import AccountPurpose
from ledger.selectors import account_balance, unbalanced_entries
from ledger.services import account_for
from payments.choices import AttemptStatus
from payments.models import PaymentAttempt
from reconciliation.choices import DiscrepancyKind, MatchEffect, MatchStatus, RunStatus
from reconciliation.models import Discrepancy, Match, ReconciliationRun

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 28)


def test_the_demo_reconciles_through_imported_statements(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the customers' e-mails go to files there
    moment = dt.datetime(2026, 11, 28, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    out = StringIO()
    with time_machine.travel(moment, tick=False):
        call_command(
            "demo_data",
            "--contracts",
            "80",
            "--seed",
            "1",
            "--today",
            TODAY.isoformat(),
            stdout=out,
            stderr=StringIO(),
        )

    assert set(Discrepancy.objects.values_list("kind", flat=True)) == set(DiscrepancyKind.values), (
        out.getvalue()
    )
    runs = ReconciliationRun.objects.all()
    assert runs.exists() and {run.status for run in runs} == {RunStatus.SIGNED_OFF}
    assert all(run.signed_off_by_id != run.prepared_by_id for run in runs)

    paid_transfers = PaymentAttempt.objects.filter(
        method="bank_transfer", status=AttemptStatus.SUCCEEDED
    )
    assert paid_transfers.exists()
    # every one paid by a statement line, none by a shortcut
    assert not paid_transfers.filter(statement_matches__isnull=True).exists()
    assert Match.objects.filter(
        status=MatchStatus.CONFIRMED, effect=MatchEffect.SETTLED, attempt__method="alipay"
    ).exists(), "a lost Alipay notification recovered from the bill"
    clearing = account_for(
        purpose=AccountPurpose.CLEARING, currency="CNY", payment_method="bank_transfer"
    )
    assert account_balance(clearing).amount == 0  # every transfer reached the bank
    assert unbalanced_entries() == []
    # the overpayment's excess goes back; a terminated contract's deposit is released
    from payments.models import DepositRelease, Refund

    assert Refund.objects.filter(source="prepaid", discrepancy__isnull=False).exists()
    assert DepositRelease.objects.filter(status="approved").exists(), out.getvalue()
    assert audit_chain_verify().ok
