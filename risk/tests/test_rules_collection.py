"""The collection rules, each raised from real data and silent below its threshold."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.choices import AmendmentStatus
from billing.models import Charge, FeeAmendment
from contracts.tests.factories import CustomerFactory
from payments.services.collection import charge_collect
from payments.tests.collection_helpers import DAY, billed_charge
from reconciliation.services import statement_import
from reconciliation.tests.statements import (
    Entry,
    camt053,
    receiving_account,
    reference_of,
    transfer_notice,
)
from tests.clock import at

from .support import evaluate, open_alerts, set_rule, subjects

pytestmark = pytest.mark.django_db


def collect(charge: Charge, on: dt.date):
    with at(on):
        return charge_collect(charge.pk, on=on)


def test_consecutive_failed_deductions_raise_at_n(settings):
    set_rule("failed_deductions", count=2)
    charge = billed_charge("3000.51")  # the sandbox declines it
    collect(charge, DAY)

    assert evaluate("failed_deductions", DAY).found == 0  # one failure: below N

    collect(charge, DAY + dt.timedelta(days=1))  # the first retry, declined too
    assert evaluate("failed_deductions", DAY + dt.timedelta(days=1)).raised == 1
    (alert,) = open_alerts("failed_deductions")
    assert alert.subject == f"contract:{charge.contract_id}"
    assert alert.customer_id == charge.contract.customer_id
    assert charge.contract.number in alert.message and "2" in alert.message


def test_a_charge_overdue_for_n_days_raises_and_resolves_once_paid(settings):
    settings.PAYMENT_RETRY_DAYS = []  # the first decline makes it overdue
    set_rule("overdue_long", days=30)
    charge = billed_charge("3000.51")
    collect(charge, DAY)
    charge.refresh_from_db()
    assert charge.status == "overdue"

    assert evaluate("overdue_long", DAY + dt.timedelta(days=29)).found == 0
    assert evaluate("overdue_long", DAY + dt.timedelta(days=30)).raised == 1
    (alert,) = open_alerts("overdue_long")
    assert alert.subject == f"charge:{charge.pk}"
    assert "3000.51 CNY" in alert.message and "30" in alert.message

    # a finance manager raises the threshold: the next run no longer finds it
    set_rule("overdue_long", days=60)
    run = evaluate("overdue_long", DAY + dt.timedelta(days=31))
    assert (run.found, run.resolved) == (0, 1)
    assert open_alerts("overdue_long") == []


def _next_charge(charge: Charge, amount: str, month: int) -> Charge:
    return Charge.objects.create(
        contract=charge.contract,
        fee=charge.fee,
        kind=charge.kind,
        period_start=dt.date(2026, month, 2),
        period_end=dt.date(2026, month + 1, 1),
        due_date=dt.date(2026, month, 2),
        amount=charge.amount.__class__(amount, "CNY"),
    )


@pytest.mark.parametrize(("amount", "raised"), [("4600.00", 1), ("4400.00", 0), ("1400.00", 1)])
def test_a_charge_far_from_the_fees_usual_amount(amount, raised):
    set_rule("amount_deviation", percent=Decimal("50"))
    first = billed_charge("3000.00")
    _next_charge(first, "3000.00", 4)
    odd = _next_charge(first, amount, 5)

    # as the billing run does for the charges it creates
    assert evaluate("amount_deviation", dt.date(2026, 5, 2), charge=[odd.pk]).raised == raised
    assert subjects("amount_deviation") == ([f"charge:{odd.pk}"] if raised else [])
    if raised:
        assert "3000.00 CNY" in open_alerts("amount_deviation")[0].message


def test_a_consented_fee_change_starts_the_comparison_afresh(django_user_model):
    set_rule("amount_deviation", percent=Decimal("50"))
    first = billed_charge("3000.00")
    _next_charge(first, "3000.00", 4)
    user = django_user_model.objects.create_user("proposer")
    FeeAmendment.objects.create(
        contract=first.contract,
        fee=first.fee,
        old_amount=first.amount,
        new_amount=first.amount.__class__("6000.00", "CNY"),
        effective_from=dt.date(2026, 5, 2),
        reason="扩容",
        status=AmendmentStatus.CONSENTED,
        proposed_by=user,
    )
    agreed = _next_charge(first, "6000.00", 5)
    then = _next_charge(first, "6000.00", 6)

    assert evaluate("amount_deviation", dt.date(2026, 6, 2), charge=[agreed.pk, then.pk]).found == 0


def test_a_prorated_or_first_charge_is_not_compared():
    set_rule("amount_deviation", percent=Decimal("10"))
    first = billed_charge("3000.00")
    short = _next_charge(first, "500.00", 4)
    Charge.objects.filter(pk=short.pk).update(prorated=True)

    assert evaluate("amount_deviation", dt.date(2026, 4, 2)).found == 0


def test_a_customer_paying_late_falls_below_the_on_time_rate():
    set_rule("on_time_rate", count=2, percent=Decimal("80"))
    late = CustomerFactory()
    transfer_notice(customer_name=None)  # someone else's, irrelevant
    for _ in range(2):
        billed_charge("3000.00", method="bank_transfer", customer=late)  # never paid
    punctual = CustomerFactory()
    for _ in range(2):
        collect(billed_charge("3000.00", customer=punctual), DAY)  # paid on the due date

    run = evaluate("on_time_rate", DAY + dt.timedelta(days=1))

    assert run.raised == 1
    (alert,) = open_alerts("on_time_rate")
    assert alert.subject == f"customer:{late.pk}"
    assert "0 of" in alert.message


def test_too_few_charges_are_not_judged():
    set_rule("on_time_rate", count=3, percent=Decimal("80"))
    late = CustomerFactory()
    for _ in range(2):
        billed_charge("3000.00", method="bank_transfer", customer=late)

    assert evaluate("on_time_rate", DAY + dt.timedelta(days=1)).found == 0


def test_a_prepaid_balance_below_the_fees_coming():
    account = receiving_account()
    charge = transfer_notice()
    with at(DAY):  # 200 more than asked: the excess is prepaid credit
        statement_import(account=account, data=camt053(Entry("3200.00", reference_of(charge))))
    customer_id = charge.contract.customer_id
    # the next monthly fee (3000.00) falls due on 2026-04-02
    set_rule("prepaid_low", days=3)
    assert evaluate("prepaid_low", dt.date(2026, 3, 28)).found == 0

    set_rule("prepaid_low", days=7)
    assert evaluate("prepaid_low", dt.date(2026, 3, 28)).raised == 1
    (alert,) = open_alerts("prepaid_low")
    assert alert.subject == f"customer:{customer_id}:CNY"
    assert "200.00 CNY" in alert.message and "3000.00 CNY" in alert.message
