"""Refunding what a statement line brought on top: an overpayment's excess or a
charge paid twice goes back to the customer out of their prepaid balance, through
the payment notice the line quoted, and only while the balance still holds it."""

from __future__ import annotations

import pytest

from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import money
from ledger.choices import AccountPurpose, EntryKind
from ledger.models import JournalEntry
from ledger.postings import apply_prepaid
from ledger.selectors import balances_for_customer
from payments.choices import RefundSource, RefundStatus
from payments.models import Refund
from payments.services.refunds import refund_confirm_manual, refundable
from payments.tests.collection_helpers import billed_charge
from reconciliation.choices import DiscrepancyKind, DiscrepancyStatus
from reconciliation.models import Discrepancy
from reconciliation.services import statement_import
from reconciliation.services.discrepancies import discrepancy_refund_excess
from tests.clock import at

from .statements import DAY, Entry, camt053, receiving_account, reference_of, transfer_notice

pytestmark = pytest.mark.django_db


def prepaid(charge):
    customer_id = charge.contract.customer_id
    return balances_for_customer(customer_id=customer_id, currency="CNY")[AccountPurpose.PREPAID]


def imported(*entries):
    with at(DAY):
        statement_import(account=receiving_account(), data=camt053(*entries), filename="s.xml")


def test_an_overpayments_excess_is_refunded_from_the_prepaid_balance(admin_user):
    charge = transfer_notice("3000.00")
    imported(Entry("3200.00", reference_of(charge)))
    gap = Discrepancy.objects.get(kind=DiscrepancyKind.OVERPAYMENT)
    assert prepaid(charge) == money("200.00", "CNY")

    with at(DAY):
        done = discrepancy_refund_excess(discrepancy=gap, by=admin_user, note="客户多付，退回")

    refund = Refund.objects.get()
    assert done.status == DiscrepancyStatus.RESOLVED and done.refund == refund
    assert (refund.amount, refund.source) == (money("200.00", "CNY"), RefundSource.PREPAID)
    # a bank transfer is refunded by hand: nothing is booked until staff confirm it
    assert refund.status == RefundStatus.MANUAL
    assert prepaid(charge) == money("200.00", "CNY")
    with at(DAY):
        refund_confirm_manual(refund=refund)
    assert prepaid(charge) == money("0.00", "CNY")
    entry = JournalEntry.objects.get(reference=f"refund:{refund.idempotency_key}")
    assert entry.kind == EntryKind.REFUND
    # what the notice collected for the charge itself stays refundable as before
    assert refundable(refund.attempt) == money("3000.00", "CNY")


def test_a_second_payment_of_a_charge_is_refunded_whole(admin_user):
    charge = transfer_notice("3000.00")
    imported(
        Entry("3000.00", reference_of(charge)), Entry("3000.00", f"再付 {reference_of(charge)}")
    )
    twice = Discrepancy.objects.get(kind=DiscrepancyKind.DUPLICATE_PAYMENT)

    with at(DAY):
        discrepancy_refund_excess(discrepancy=twice, by=admin_user, note="重复付款")

    assert Refund.objects.get().amount == money("3000.00", "CNY")


def test_an_excess_already_spent_on_a_later_charge_is_not_refunded(admin_user):
    charge = transfer_notice("3000.00")
    imported(Entry("3200.00", reference_of(charge)))
    gap = Discrepancy.objects.get(kind=DiscrepancyKind.OVERPAYMENT)
    later = billed_charge("150.00", customer=charge.contract.customer)
    with at(DAY):
        apply_prepaid(
            customer_id=charge.contract.customer_id,
            amount=money("150.00", "CNY"),
            charge_id=later.pk,
            on=DAY,
        )

    with pytest.raises(BusinessError) as refused, at(DAY):
        discrepancy_refund_excess(discrepancy=gap, by=admin_user, note="退回")

    assert "50.00" in str(refused.value.detail["amount"][0])
    gap.refresh_from_db()
    assert gap.status == DiscrepancyStatus.OPEN and gap.refund is None
    assert not Refund.objects.exists()


def test_only_an_excess_is_refunded_from_a_discrepancy_and_with_a_reason(admin_user):
    partial, over = transfer_notice("3000.00"), transfer_notice("3000.00")
    imported(Entry("1000.00", reference_of(partial)), Entry("3500.00", reference_of(over)))
    rest = Discrepancy.objects.get(kind=DiscrepancyKind.PARTIAL_PAYMENT)
    excess = Discrepancy.objects.get(kind=DiscrepancyKind.OVERPAYMENT)

    with pytest.raises(BusinessError), at(DAY):
        discrepancy_refund_excess(discrepancy=rest, by=admin_user, note="退回")
    with pytest.raises(BusinessError), at(DAY):
        discrepancy_refund_excess(discrepancy=excess, by=admin_user, note="  ")
    assert not Refund.objects.exists()


def test_the_api_refunds_an_excess(api):
    charge = transfer_notice("3000.00")
    imported(Entry("3010.00", reference_of(charge)))
    gap = Discrepancy.objects.get(kind=DiscrepancyKind.OVERPAYMENT)

    with at(DAY):
        answer = api.post(
            f"/api/v1/discrepancies/{gap.pk}/resolve/",
            {"outcome": "refund", "note": "多付 10 元"},
            format="json",
        )

    assert answer.status_code == 200, answer.json()
    assert answer.json()["refund"] == Refund.objects.get().pk
    assert answer.json()["status"] == "resolved"


def test_the_admin_refunds_an_excess_after_asking_why(admin_client):
    charge = transfer_notice("3000.00")
    imported(Entry("3100.00", reference_of(charge)))
    gap = Discrepancy.objects.get(kind=DiscrepancyKind.OVERPAYMENT)
    url = "/admin/reconciliation/discrepancy/"
    chosen = {"action": "refund_excess", "_selected_action": [gap.pk]}

    asked = admin_client.post(url, chosen)
    assert asked.status_code == 200 and not Refund.objects.exists()  # the reason first
    with at(DAY):
        done = admin_client.post(url, {**chosen, "apply": "1", "text": "多付 100 元"}, follow=True)

    assert done.status_code == 200
    gap.refresh_from_db()
    assert gap.status == DiscrepancyStatus.RESOLVED
    assert gap.refund.amount == money("100.00", "CNY")
