"""Fee changes with the customer's consent: a proposal, a second person's approval,
the customer's decision, and what the billing run charges afterwards."""

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from billing.choices import AmendmentStatus
from billing.models import AmendmentDecision, Charge, FeeAmendment
from billing.services import billing_run
from billing.services.amendments import (
    amendment_approve,
    amendment_consent,
    amendment_decline,
    amendment_notify,
    amendment_record_paper,
    amendment_reject,
    amendment_withdraw,
    amendments_lapse,
)
from billing.tasks import amendments_lapse_task
from contracts.services import FeeInput, contract_terminate
from contracts.tests.factories import CustomerFactory, make_contract, monthly
from feemgmt.core.exceptions import BusinessError, InvalidTransition
from tests.clock import at

from .amendment_helpers import consented, propose, shown_digest, staff

pytestmark = pytest.mark.django_db

SIGNED = dt.date(2026, 1, 10)
TODAY = dt.date(2026, 2, 10)


@pytest.fixture
def people(django_user_model):
    customer_user = django_user_model.objects.create_user("ap", "ap@example.com", "pw")
    return staff(django_user_model, "clerk"), staff(django_user_model, "manager"), customer_user


def monthly_contract(**kwargs):
    with at(SIGNED):
        return make_contract(service_start=dt.date(2026, 1, 15), signed_on=SIGNED, **kwargs)


def recurring_amounts(contract):
    return list(
        Charge.objects.filter(contract=contract, kind="recurring")
        .order_by("period_start")
        .values_list("period_start", "period_end", "amount", "prorated")
    )


# --- proposing -----------------------------------------------------------------


def test_a_proposal_changes_nothing_until_consented(people):
    clerk, _manager, _user = people
    contract = monthly_contract()
    fee = contract.fees.get()
    amendment = propose(
        fee, amount="3300.00", effective_from=dt.date(2026, 4, 1), by=clerk, on=TODAY
    )
    assert amendment.status == AmendmentStatus.PROPOSED
    assert amendment.old_amount.amount == Decimal("3000.00")
    fee.refresh_from_db()
    assert fee.amount.amount == Decimal("3000.00")
    assert AuditEvent.objects.filter(action="amendment.proposed").count() == 1


@pytest.mark.parametrize(
    ("effective_from", "field", "words"),
    [
        (dt.date(2026, 2, 1), "effective_from", "future period start"),
        (dt.date(2026, 4, 15), "effective_from", "The next one after it is 2026-05-01"),
    ],
)
def test_the_change_takes_effect_at_a_future_period_start(people, effective_from, field, words):
    clerk, _manager, _user = people
    fee = monthly_contract().fees.get()
    with pytest.raises(BusinessError) as caught:
        propose(fee, amount="3300.00", effective_from=effective_from, by=clerk, on=TODAY)
    assert words in " ".join(caught.value.detail[field])
    assert not FeeAmendment.objects.exists()


def test_proposals_are_refused_for_drafts_one_off_fees_the_same_amount_or_no_reason(people):
    clerk, _manager, _user = people
    with at(SIGNED):
        draft = make_contract(service_start=dt.date(2026, 1, 15))
    with pytest.raises(BusinessError, match="edited directly"):
        propose(
            draft.fees.get(), amount="1", effective_from=dt.date(2026, 4, 1), by=clerk, on=TODAY
        )
    contract = monthly_contract(fees=[FeeInput(kind="service_start", amount="800.00"), monthly()])
    one_off = contract.fees.get(kind="service_start")
    recurring = contract.fees.get(kind="recurring")
    with pytest.raises(BusinessError, match="Only recurring fees"):
        propose(one_off, amount="900", effective_from=dt.date(2026, 4, 1), by=clerk, on=TODAY)
    with pytest.raises(BusinessError, match="already"):
        propose(recurring, amount="3000", effective_from=dt.date(2026, 4, 1), by=clerk, on=TODAY)
    with pytest.raises(BusinessError) as caught:
        propose(recurring, amount="30.001", effective_from=dt.date(2026, 4, 1), by=clerk, on=TODAY)
    assert "new_amount" in caught.value.detail
    with pytest.raises(BusinessError) as caught:
        propose(
            recurring,
            amount="3300",
            effective_from=dt.date(2026, 4, 1),
            by=clerk,
            on=TODAY,
            reason="  ",
        )
    assert "reason" in caught.value.detail
    assert not FeeAmendment.objects.exists()


def test_one_change_per_fee_waits_for_a_decision_at_a_time(people):
    clerk, _manager, _user = people
    fee = monthly_contract().fees.get()
    propose(fee, amount="3300", effective_from=dt.date(2026, 4, 1), by=clerk, on=TODAY)
    with pytest.raises(BusinessError, match="already has a change waiting"):
        propose(fee, amount="3600", effective_from=dt.date(2026, 5, 1), by=clerk, on=TODAY)
    assert FeeAmendment.objects.count() == 1


# --- approving and telling the customer ----------------------------------------


def test_approval_needs_a_second_person_and_sends_one_email(
    people, eager, django_capture_on_commit_callbacks
):
    clerk, manager, _user = people
    fee = monthly_contract().fees.get()
    amendment = propose(fee, amount="3300", effective_from=dt.date(2026, 4, 1), by=clerk, on=TODAY)
    with at(TODAY), pytest.raises(BusinessError, match="someone other than its proposer"):
        amendment_approve(amendment=amendment, by=clerk)
    mail.outbox.clear()
    with at(TODAY), django_capture_on_commit_callbacks(execute=True):
        amendment = amendment_approve(amendment=amendment, by=manager)
    assert amendment.status == AmendmentStatus.SENT
    assert amendment.approved_by == manager
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [fee.contract.customer.email]
    assert "3300.00" in message.body and "2026-04-01" in message.body
    assert "2026-03-31" in message.body  # the last day to decide
    assert f"/portal/amendments/{amendment.pk}/" in message.body
    # a second delivery of the task sends nothing more
    assert amendment_notify(amendment.pk) is False
    assert len(mail.outbox) == 1


def test_a_rejected_or_withdrawn_change_is_final(people):
    clerk, manager, _user = people
    fee = monthly_contract().fees.get()
    first = propose(fee, amount="3300", effective_from=dt.date(2026, 4, 1), by=clerk, on=TODAY)
    with at(TODAY):
        amendment_reject(amendment=first, by=manager)
        with pytest.raises(InvalidTransition):
            amendment_approve(amendment=first, by=manager)
    second = propose(fee, amount="3400", effective_from=dt.date(2026, 4, 1), by=clerk, on=TODAY)
    with at(TODAY):
        amendment_approve(amendment=second, by=manager)
        amendment_withdraw(amendment=second, by=clerk)
    assert set(FeeAmendment.objects.values_list("status", flat=True)) == {"rejected", "withdrawn"}


# --- the customer's decision ----------------------------------------------------


def test_consent_in_the_portal_keeps_the_proof_and_bills_the_new_amount_from_then_on(people):
    clerk, manager, customer_user = people
    contract = monthly_contract()
    fee = contract.fees.get()
    amendment = consented(
        fee,
        amount="3300.00",
        effective_from=dt.date(2026, 4, 1),
        proposer=clerk,
        approver=manager,
        customer_user=customer_user,
        on=TODAY,
    )
    assert amendment.status == AmendmentStatus.CONSENTED
    decision = AmendmentDecision.objects.get(amendment=amendment)
    assert (decision.user, decision.ip, decision.channel) == (
        customer_user,
        "203.0.113.9",
        "portal",
    )
    assert decision.user_agent == "Mozilla/5.0 (iPhone)"
    assert "3300.00" in decision.text_shown and "2026-04-01" in decision.text_shown
    assert decision.terms_shown["old_amount"] == "3000.00"
    assert decision.terms_shown["new_amount"] == "3300.00"
    event = AuditEvent.objects.get(action="amendment.consented")
    assert event.changes["decision"]["ip"] == "203.0.113.9"

    with at(dt.date(2026, 5, 2)):
        billing_run(on=dt.date(2026, 5, 2))
    assert recurring_amounts(contract) == [
        (dt.date(2026, 1, 15), dt.date(2026, 1, 31), Decimal("1645.16"), True),
        (dt.date(2026, 2, 1), dt.date(2026, 2, 28), Decimal("3000.00"), False),
        (dt.date(2026, 3, 1), dt.date(2026, 3, 31), Decimal("3000.00"), False),
        (dt.date(2026, 4, 1), dt.date(2026, 4, 30), Decimal("3300.00"), False),
        (dt.date(2026, 5, 1), dt.date(2026, 5, 31), Decimal("3300.00"), False),
    ]
    fee.refresh_from_db()
    assert fee.amount.amount == Decimal("3000.00")  # the signed terms are untouched


def test_a_period_cut_by_the_end_is_prorated_from_the_amount_in_force(people):
    clerk, manager, customer_user = people
    contract = monthly_contract()
    fee = contract.fees.get()
    consented(
        fee,
        amount="4000.00",
        effective_from=dt.date(2026, 4, 1),
        proposer=clerk,
        approver=manager,
        customer_user=customer_user,
        on=TODAY,
    )
    with at(dt.date(2026, 4, 5)):
        billing_run(on=dt.date(2026, 4, 5))
        contract_terminate(contract=contract, end_date=dt.date(2026, 4, 20))
    assert recurring_amounts(contract)[-2:] == [
        (dt.date(2026, 3, 1), dt.date(2026, 3, 31), Decimal("3000.00"), False),
        # 4000 × 20 / 30, half-up
        (dt.date(2026, 4, 1), dt.date(2026, 4, 20), Decimal("2666.67"), True),
    ]


def test_a_second_change_follows_the_first(people):
    clerk, manager, customer_user = people
    with at(SIGNED):
        contract = make_contract(
            service_start=dt.date(2026, 1, 15), alignment="anniversary", signed_on=SIGNED
        )
    fee = contract.fees.get()
    consented(
        fee,
        amount="3500",
        effective_from=dt.date(2026, 3, 15),
        proposer=clerk,
        approver=manager,
        customer_user=customer_user,
        on=TODAY,
    )
    later = consented(
        fee,
        amount="3900",
        effective_from=dt.date(2026, 5, 15),
        proposer=clerk,
        approver=manager,
        customer_user=customer_user,
        on=TODAY,
    )
    assert later.old_amount.amount == Decimal("3500.00")  # what is in force then
    with at(dt.date(2026, 6, 20)):
        billing_run(on=dt.date(2026, 6, 20))
    assert [row[2] for row in recurring_amounts(contract)] == [
        Decimal("3000.00"),
        Decimal("3000.00"),
        Decimal("3500.00"),
        Decimal("3500.00"),
        Decimal("3900.00"),
        Decimal("3900.00"),
    ]


def test_the_portal_decision_is_only_for_the_terms_shown_and_the_own_customer(people):
    clerk, manager, customer_user = people
    fee = monthly_contract().fees.get()
    amendment = propose(fee, amount="3300", effective_from=dt.date(2026, 4, 1), by=clerk, on=TODAY)
    with at(TODAY):
        amendment = amendment_approve(amendment=amendment, by=manager)
        with pytest.raises(BusinessError, match="not the ones you were shown"):
            amendment_consent(
                amendment=amendment,
                customer=fee.contract.customer,
                user=customer_user,
                ip="203.0.113.9",
                user_agent="x",
                digest="0" * 64,
            )
        with pytest.raises(FeeAmendment.DoesNotExist):
            amendment_consent(
                amendment=amendment,
                customer=CustomerFactory(),
                user=customer_user,
                ip="203.0.113.9",
                user_agent="x",
                digest=shown_digest(amendment),
            )
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.SENT
    assert not AmendmentDecision.objects.exists()


def test_declined_or_lapsed_changes_leave_the_old_fee(people):
    clerk, manager, customer_user = people
    declined_contract, lapsed_contract = monthly_contract(), monthly_contract()
    declined = propose(
        declined_contract.fees.get(),
        amount="3300",
        effective_from=dt.date(2026, 4, 1),
        by=clerk,
        on=TODAY,
    )
    lapsing = propose(
        lapsed_contract.fees.get(),
        amount="3300",
        effective_from=dt.date(2026, 4, 1),
        by=clerk,
        on=TODAY,
    )
    with at(TODAY):
        declined = amendment_approve(amendment=declined, by=manager)
        amendment_decline(
            amendment=declined,
            customer=declined_contract.customer,
            user=customer_user,
            ip="203.0.113.9",
            user_agent="x",
            digest=shown_digest(declined),
            comment="Too much",
        )
        lapsing = amendment_approve(amendment=lapsing, by=manager)
    with at(dt.date(2026, 3, 31)):
        assert amendments_lapse(on=dt.date(2026, 3, 31)) == 0  # still a day to decide
    with at(dt.date(2026, 4, 1)):
        # on the effective day it can no longer be consented, lapse job or not
        with pytest.raises(BusinessError, match="can no longer be decided"):
            amendment_consent(
                amendment=lapsing,
                customer=lapsed_contract.customer,
                user=customer_user,
                ip="203.0.113.9",
                user_agent="x",
                digest=shown_digest(lapsing),
            )
        assert amendments_lapse_task() == 1
        billing_run(on=dt.date(2026, 4, 1))
    assert FeeAmendment.objects.get(pk=lapsing.pk).status == AmendmentStatus.LAPSED
    assert FeeAmendment.objects.get(pk=declined.pk).status == AmendmentStatus.DECLINED
    for contract in (declined_contract, lapsed_contract):
        assert recurring_amounts(contract)[-1][2] == Decimal("3000.00")
    assert AuditEvent.objects.filter(action="amendments.lapsed").count() == 1


def test_staff_record_a_paper_consent_with_the_signed_document(people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    clerk, manager, _user = people
    contract = monthly_contract()
    amendment = propose(
        contract.fees.get(),
        amount="3300",
        effective_from=dt.date(2026, 4, 1),
        by=clerk,
        on=TODAY,
    )
    with at(TODAY):
        amendment = amendment_approve(amendment=amendment, by=manager)
        with pytest.raises(BusinessError) as caught:
            amendment_record_paper(amendment=amendment, by=clerk, consented=True)
        assert "document" in caught.value.detail
        with pytest.raises(BusinessError, match="PDF, PNG or JPEG"):
            amendment_record_paper(
                amendment=amendment,
                by=clerk,
                consented=True,
                document=SimpleUploadedFile("consent.exe", b"MZ"),
            )
        amendment_record_paper(
            amendment=amendment,
            by=clerk,
            consented=True,
            document=SimpleUploadedFile("consent.pdf", b"%PDF-1.4 signed", "application/pdf"),
        )
    decision = AmendmentDecision.objects.get(amendment=amendment)
    assert (decision.channel, decision.user) == ("paper", clerk)
    assert decision.document_sha256 == hashlib.sha256(b"%PDF-1.4 signed").hexdigest()
    assert decision.document.read() == b"%PDF-1.4 signed"
    assert FeeAmendment.objects.get(pk=amendment.pk).status == AmendmentStatus.CONSENTED


def test_a_termination_withdraws_the_changes_it_leaves_no_period_for(people):
    clerk, manager, _user = people
    contract = monthly_contract(
        fees=[monthly(), FeeInput(kind="recurring", cycle="quarterly", amount="900.00")]
    )
    by_month = contract.fees.get(cycle="monthly")
    by_quarter = contract.fees.get(cycle="quarterly")
    after_end = propose(
        by_month, amount="3300", effective_from=dt.date(2026, 5, 1), by=clerk, on=TODAY
    )
    within = propose(
        by_quarter, amount="990", effective_from=dt.date(2026, 4, 1), by=clerk, on=TODAY
    )
    with at(TODAY):
        amendment_approve(amendment=after_end, by=manager)
        contract_terminate(contract=contract, end_date=dt.date(2026, 4, 20))
    assert FeeAmendment.objects.get(pk=after_end.pk).status == AmendmentStatus.WITHDRAWN
    assert AuditEvent.objects.get(action="amendments.withdrawn").changes["withdrawn"] == 1
    # the change from 1 April still has a period (1 to 20 April) to be decided for
    assert FeeAmendment.objects.get(pk=within.pk).status == AmendmentStatus.PROPOSED
