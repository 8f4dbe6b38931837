"""The mandate, reconciliation and audit rules, each raised from real data and
silent below its threshold."""

from __future__ import annotations

import datetime as dt

import pytest

from alerts.choices import AlertStatus
from alerts.models import Alert
from contracts.tests.factories import CustomerFactory
from payments.models import Mandate
from payments.services.mandates import mandates_revoke
from payments.tests.collection_helpers import DAY, billed_charge
from reconciliation.services import statement_import
from reconciliation.services.runs import reconciliation_run_prepare, reconciliation_run_sign_off
from reconciliation.tests.statements import (
    Entry,
    camt053,
    receiving_account,
    reference_of,
    transfer_notice,
)
from risk.services import risk_chain_verified
from tests.clock import at

from .support import evaluate, open_alerts, set_rule, subjects

pytestmark = pytest.mark.django_db

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def mandate(customer, reference="MNDT-1", **fields) -> Mandate:
    return Mandate.objects.create(
        customer=customer,
        reference=reference,
        signed_on=dt.date(2026, 1, 15),
        debtor_name="Li Si",
        debtor_iban="DE89370400440532013000",
        **fields,
    )


def test_a_mandate_running_out_within_n_days():
    expiring = mandate(CustomerFactory(), valid_until=DAY + dt.timedelta(days=20))
    mandate(CustomerFactory(), "MNDT-2", valid_until=DAY + dt.timedelta(days=40))

    set_rule("mandate_expiring", days=10)
    assert evaluate("mandate_expiring", DAY).found == 0

    set_rule("mandate_expiring", days=30)
    assert evaluate("mandate_expiring", DAY).raised == 1
    assert subjects("mandate_expiring") == [f"mandate:{expiring.pk}"]
    assert "MNDT-1" in open_alerts("mandate_expiring")[0].message


def test_a_mandate_revoked_while_a_debit_is_due():
    charge = billed_charge("3000.00", method="auto_debit")  # pending: to be debited
    owing = mandate(charge.contract.customer)
    quiet = mandate(CustomerFactory(), "MNDT-2")  # nothing to debit under it
    mandates_revoke(Mandate.objects.filter(pk__in=[owing.pk, quiet.pk]))

    run = evaluate("mandate_revoked", DAY)

    assert run.raised == 1
    assert subjects("mandate_revoked") == [f"mandate:{owing.pk}"]


def test_a_new_active_mandate_clears_the_revoked_one():
    charge = billed_charge("3000.00", method="auto_debit")
    old = mandate(charge.contract.customer)
    mandates_revoke(Mandate.objects.filter(pk=old.pk))
    assert evaluate("mandate_revoked", DAY).raised == 1

    mandate(charge.contract.customer, "MNDT-NEW")
    run = evaluate("mandate_revoked", DAY)
    assert (run.found, run.resolved) == (0, 1)


def test_money_received_that_matches_nothing_for_n_days():
    set_rule("unmatched_payment", days=3)
    with at(DAY):
        statement_import(
            account=receiving_account(),
            data=camt053(Entry("777.00", "不明来款", payer="某某公司", booked_on=DAY)),
        )

    assert evaluate("unmatched_payment", DAY + dt.timedelta(days=2)).found == 0
    assert evaluate("unmatched_payment", DAY + dt.timedelta(days=3)).raised == 1
    (alert,) = open_alerts("unmatched_payment")
    assert alert.subject.startswith("line:")
    assert "777.00 CNY" in alert.message and "某某公司" in alert.message


def test_a_charge_paid_twice():
    account = receiving_account()
    once, twice = transfer_notice(), transfer_notice()
    with at(DAY):
        statement_import(
            account=account,
            data=camt053(
                Entry("3000.00", reference_of(once)),
                Entry("3000.00", reference_of(twice)),
                Entry("3000.00", f"again {reference_of(twice)}"),
            ),
        )

    run = evaluate("duplicate_payment", DAY)

    assert run.raised == 1
    (alert,) = open_alerts("duplicate_payment")
    assert alert.customer_id == twice.contract.customer_id


def _run_with(*entries, by):
    account = receiving_account()
    with at(DAY):
        statement_import(account=account, data=camt053(*entries))
    return reconciliation_run_prepare(
        account=account, period_start=MARCH[0], period_end=MARCH[1], by=by
    )


def test_a_run_whose_totals_differ(admin_user):
    charge = transfer_notice()
    run = _run_with(
        Entry("3000.00", reference_of(charge)), Entry("45.50", "不明来款"), by=admin_user
    )

    assert evaluate("reconciliation_difference", DAY).raised == 1
    assert subjects("reconciliation_difference") == [f"run:{run.pk}"]
    assert "45.50 CNY" in open_alerts("reconciliation_difference")[0].message


def test_a_run_that_agrees_raises_nothing(admin_user):
    charge = transfer_notice()
    run = _run_with(Entry("3000.00", reference_of(charge)), by=admin_user)

    assert run.difference == 0
    assert evaluate("reconciliation_difference", DAY).found == 0


def test_a_run_not_signed_off_n_days_after_its_period(admin_user, django_user_model):
    set_rule("reconciliation_unsigned", days=5)
    charge = transfer_notice()
    run = _run_with(Entry("3000.00", reference_of(charge)), by=admin_user)

    assert evaluate("reconciliation_unsigned", dt.date(2026, 4, 4)).found == 0
    assert evaluate("reconciliation_unsigned", dt.date(2026, 4, 5)).raised == 1
    assert subjects("reconciliation_unsigned") == [f"run:{run.pk}"]

    auditor = django_user_model.objects.create_superuser("auditor", "a@example.com", "pw")
    reconciliation_run_sign_off(run=run, by=auditor)
    result = evaluate("reconciliation_unsigned", dt.date(2026, 4, 6))
    assert (result.found, result.resolved) == (0, 1)


def test_a_broken_audit_chain_raises_the_rules_severity_and_an_intact_one_resolves():
    set_rule("audit_chain_broken", severity="critical")
    risk_chain_verified(ok=True, report="intact")
    assert not Alert.objects.exists()

    risk_chain_verified(ok=False, report="event 7 altered")
    alert = Alert.objects.get(kind="audit_chain_broken")
    assert (alert.severity, alert.message) == ("critical", "event 7 altered")

    risk_chain_verified(ok=True, report="intact")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_a_disabled_rule_raises_nothing():
    set_rule("audit_chain_broken", enabled=False)
    risk_chain_verified(ok=False, report="event 7 altered")
    assert not Alert.objects.exists()

    set_rule("mandate_expiring", enabled=False, days=30)
    mandate(CustomerFactory(), valid_until=DAY + dt.timedelta(days=5))
    assert evaluate_all(DAY) == {}


def evaluate_all(on):
    from risk.services import risk_evaluate

    return {code: run for code, run in risk_evaluate(today=on).items() if run.found}
