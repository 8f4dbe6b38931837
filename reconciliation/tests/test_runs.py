"""Reconciliation runs: statement against books, prepared by one person and signed
off by another, then frozen until a finance manager reopens it with a reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction

from feemgmt.core.exceptions import BusinessError, InvalidTransition
from reconciliation.choices import RunStatus
from reconciliation.models import ReconciliationRun
from reconciliation.services import statement_import
from reconciliation.services.runs import (
    reconciliation_run_prepare,
    reconciliation_run_reopen,
    reconciliation_run_sign_off,
)
from tests.clock import at

from .statements import DAY, Entry, camt053, receiving_account, reference_of, transfer_notice

pytestmark = pytest.mark.django_db

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def user(django_user_model, name, *perms):
    person = django_user_model.objects.create_user(name, f"{name}@example.com", "pw", is_staff=True)
    for perm in perms:
        person.user_permissions.add(Permission.objects.get(codename=perm))
    return django_user_model.objects.get(pk=person.pk)  # a fresh permission cache


@pytest.fixture
def people(django_user_model):
    return {
        "clerk": user(django_user_model, "clerk"),
        "auditor": user(django_user_model, "auditor", "sign_off_reconciliationrun"),
        "preparer_auditor": user(django_user_model, "both", "sign_off_reconciliationrun"),
        "manager": user(django_user_model, "manager", "reopen_reconciliationrun"),
    }


@pytest.fixture
def imported():
    account = receiving_account()
    charge = transfer_notice()
    with at(DAY):
        statement_import(
            account=account,
            data=camt053(Entry("3000.00", reference_of(charge)), Entry("45.50", "不明来款")),
        )
    return account


def prepare(account, by):
    return reconciliation_run_prepare(
        account=account, period_start=MARCH[0], period_end=MARCH[1], by=by
    )


def test_a_run_compares_the_statement_with_the_cash_account(imported, people):
    run = prepare(imported, people["clerk"])

    assert run.status == RunStatus.PREPARED
    assert (run.statement_total, run.ledger_total, run.difference) == (
        Decimal("3045.50"),
        Decimal("3000.00"),
        Decimal("45.50"),  # the unmatched line the books do not explain
    )
    assert (run.opening_balance, run.closing_balance) == (Decimal("10000.00"), Decimal("13045.50"))
    assert (run.lines, run.open_discrepancies) == (2, 1)


def test_sign_off_needs_another_person_with_the_permission(imported, people):
    run = prepare(imported, people["preparer_auditor"])

    with pytest.raises(BusinessError):
        reconciliation_run_sign_off(run=run, by=people["preparer_auditor"])  # own run
    with pytest.raises(BusinessError):
        reconciliation_run_sign_off(run=run, by=people["clerk"])  # no permission

    signed = reconciliation_run_sign_off(run=run, by=people["auditor"])
    assert signed.status == RunStatus.SIGNED_OFF and signed.signed_off_by == people["auditor"]


def test_the_database_refuses_a_self_signed_run(imported, people):
    run = prepare(imported, people["clerk"])
    with pytest.raises(IntegrityError), transaction.atomic():
        ReconciliationRun.objects.filter(pk=run.pk).update(
            status=RunStatus.SIGNED_OFF, signed_off_by=people["clerk"]
        )


def test_a_signed_off_run_is_frozen_until_a_manager_reopens_it(imported, people):
    run = prepare(imported, people["clerk"])
    reconciliation_run_sign_off(run=run, by=people["auditor"])

    with pytest.raises(InvalidTransition):
        prepare(imported, people["clerk"])
    with pytest.raises(BusinessError):
        reconciliation_run_reopen(run=run, by=people["clerk"], reason="late statement")
    with pytest.raises(BusinessError):
        reconciliation_run_reopen(run=run, by=people["manager"], reason="  ")

    reopened = reconciliation_run_reopen(run=run, by=people["manager"], reason="late statement")
    assert reopened.status == RunStatus.REOPENED and reopened.reopen_reason == "late statement"
    again = prepare(imported, people["clerk"])
    assert again.pk == run.pk and again.status == RunStatus.PREPARED
    with pytest.raises(InvalidTransition):
        reconciliation_run_reopen(run=again, by=people["manager"], reason="again")


def test_the_api_prepares_and_signs_off_a_run(imported, people, client):
    from rest_framework.test import APIClient

    clerk, auditor = APIClient(), APIClient()
    people["clerk"].user_permissions.add(
        *Permission.objects.filter(codename__in=["add_reconciliationrun", "view_reconciliationrun"])
    )
    people["auditor"].user_permissions.add(
        Permission.objects.get(codename="view_reconciliationrun")
    )
    clerk.force_login(people["clerk"])
    auditor.force_login(people["auditor"])

    prepared = clerk.post(
        "/api/v1/reconciliation-runs/",
        {"account": "icbc-cny", "period_start": "2026-03-01", "period_end": "2026-03-31"},
        format="json",
    )
    assert prepared.status_code == 201, prepared.json()
    assert prepared.json()["difference"] == "45.50"
    url = f"/api/v1/reconciliation-runs/{prepared.json()['id']}/sign-off/"

    assert clerk.post(url).status_code == 400  # neither allowed nor another person
    signed = auditor.post(url)
    assert signed.status_code == 200 and signed.json()["status"] == "signed_off"
    assert auditor.post(url).status_code == 409  # frozen
