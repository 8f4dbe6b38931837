"""The demo collects through every payment method, with balances to show."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from ledger.selectors import unbalanced_entries
from payments.choices import AttemptStatus
from payments.models import DirectDebitBatch, Mandate, PaymentAttempt

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 28)


def test_the_demo_collects_through_every_payment_method(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # its customer e-mails go to files there
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

    succeeded = set(
        PaymentAttempt.objects.filter(status=AttemptStatus.SUCCEEDED)
        .values_list("method", flat=True)
        .distinct()
    )
    assert succeeded == set(settings.PAYMENT_METHODS), out.getvalue()
    assert Mandate.objects.exists() and DirectDebitBatch.objects.exists()
    assert PaymentAttempt.objects.filter(method="bank_transfer", status="pending").exists()
    assert unbalanced_entries() == []
    assert "Demo collection:" in out.getvalue()
