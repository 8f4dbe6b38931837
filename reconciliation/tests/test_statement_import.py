"""Importing a statement: bank transfers settle from the lines that quote their
reference, everything else becomes a suggestion or a discrepancy, and neither a
malformed file nor a repeat writes anything."""

from __future__ import annotations

import pytest

from billing.choices import ChargeStatus
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import money
from ledger.choices import EntryKind
from ledger.models import JournalEntry
from payments.services.collection import outstanding
from reconciliation.choices import DiscrepancyKind, LineStatus, MatchEffect, MatchStatus
from reconciliation.models import Discrepancy, Match, Statement, StatementLine
from reconciliation.services import match_confirm, match_reject, statement_import
from tests.clock import at

from .statements import DAY, Entry, camt053, receiving_account, reference_of, transfer_notice

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return receiving_account()


def run_import(account, data, **kwargs):
    with at(DAY):
        return statement_import(account=account, data=data, filename="stmt.xml", **kwargs)


def kinds():
    return sorted(Discrepancy.objects.values_list("kind", flat=True))


def test_a_line_quoting_the_reference_settles_the_charge(account):
    charge = transfer_notice("3000.00")
    data = camt053(Entry("3000.00", f"管理费 {reference_of(charge)} 三月"))

    summary = run_import(account, data)

    assert (summary.lines_read, summary.lines_new, summary.duplicates) == (1, 1, 0)
    assert (summary.settled, summary.suggested, summary.unmatched) == (1, 0, 0)
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PAID
    line = StatementLine.objects.get()
    assert line.status == LineStatus.MATCHED
    match = Match.objects.get()
    assert (match.charge_id, match.status, match.effect) == (
        charge.pk,
        MatchStatus.CONFIRMED,
        MatchEffect.SETTLED,
    )
    assert not Discrepancy.objects.exists()


def test_the_same_file_again_creates_nothing_and_says_so(account):
    charge = transfer_notice()
    data = camt053(Entry("3000.00", reference_of(charge)), Entry("88.00", "利息"))
    run_import(account, data)

    again = run_import(account, data)

    assert again.already_imported
    assert (again.lines_read, again.lines_new, again.duplicates) == (2, 0, 2)
    assert Statement.objects.count() == 1 and StatementLine.objects.count() == 2
    assert JournalEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 1


def test_an_overlapping_export_adds_only_its_new_lines(account):
    first, second = transfer_notice(), transfer_notice("1200.00")
    run_import(account, camt053(Entry("3000.00", reference_of(first))))

    summary = run_import(
        account,
        camt053(
            Entry("3000.00", reference_of(first)),
            Entry("1200.00", reference_of(second)),
        ),
    )

    assert (summary.lines_read, summary.lines_new, summary.duplicates) == (2, 1, 1)
    assert summary.settled == 1
    assert StatementLine.objects.count() == 2
    assert JournalEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 2


def test_two_real_payments_alike_in_one_file_stay_two(account):
    summary = run_import(
        account, camt053(Entry("500.00", "", reference="-"), Entry("500.00", "", reference="-"))
    )
    assert summary.lines_new == 2


def test_a_malformed_file_names_the_element_and_writes_nothing(account):
    charge = transfer_notice()
    good = camt053(Entry("3000.00", reference_of(charge)), Entry("12.00", "x"))
    broken = good.replace(b">12.00<", b">12,OO<")

    with pytest.raises(BusinessError) as error:
        run_import(account, broken)

    message = error.value.detail["file"][0]
    assert "Ntry[2]" in message and "12,OO" in message
    assert not Statement.objects.exists() and not StatementLine.objects.exists()
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PENDING


def test_a_statement_of_another_account_is_refused(account):
    with pytest.raises(BusinessError) as error:
        run_import(account, camt053(Entry("1.00", "x"), account="CN99OTHER000000000001"))
    assert "account" in error.value.detail
    assert not Statement.objects.exists()


def test_a_line_in_another_currency_than_the_account_is_refused(account):
    with pytest.raises(BusinessError) as error:
        run_import(account, camt053(Entry("1.00", "x"), currency="USD"))
    assert "USD" in error.value.detail["file"][0]
    assert not Statement.objects.exists()


def test_partial_over_and_duplicate_payments_become_discrepancies(account):
    partial, over, twice = transfer_notice(), transfer_notice(), transfer_notice()
    data = camt053(
        Entry("1000.00", reference_of(partial)),
        Entry("3200.00", reference_of(over)),
        Entry("3000.00", reference_of(twice)),
        Entry("3000.00", f"again {reference_of(twice)}"),
    )

    summary = run_import(account, data)

    assert summary.settled == 4
    assert kinds() == [
        DiscrepancyKind.DUPLICATE_PAYMENT,
        DiscrepancyKind.OVERPAYMENT,
        DiscrepancyKind.PARTIAL_PAYMENT,
    ]
    partial.refresh_from_db()
    assert partial.status == ChargeStatus.PENDING
    assert outstanding(partial) == money("2000.00", "CNY")
    gap = Discrepancy.objects.get(kind=DiscrepancyKind.PARTIAL_PAYMENT)
    assert gap.amount == money("2000.00", "CNY") and gap.charge_id == partial.pk
    assert Discrepancy.objects.get(kind=DiscrepancyKind.OVERPAYMENT).amount == money(
        "200.00", "CNY"
    )


def test_an_unexplained_line_and_a_reversal_are_discrepancies(account):
    summary = run_import(
        account,
        camt053(Entry("777.00", "不明来款", payer="某某"), Entry("-50.00", "冲正", reversal=True)),
    )

    assert summary.unmatched == 2
    assert kinds() == [DiscrepancyKind.REVERSAL, DiscrepancyKind.UNMATCHED_LINE]
    assert set(StatementLine.objects.values_list("status", flat=True)) == {LineStatus.UNMATCHED}


def test_a_line_without_reference_is_suggested_and_a_clerk_confirms_it(account, admin_user):
    charge = transfer_notice("4321.00", customer_name="上海星辰信息技术有限公司")
    transfer_notice("4321.00", customer_name="北京远方贸易有限公司")  # same amount, other payer

    summary = run_import(
        account, camt053(Entry("4321.00", "三月管理费", payer="上海星辰信息技术有限公司"))
    )

    assert (summary.settled, summary.suggested, summary.unmatched) == (0, 1, 0)
    line = StatementLine.objects.get()
    assert line.status == LineStatus.SUGGESTED
    best, other = line.matches.order_by("-score")
    assert best.charge_id == charge.pk and best.score > other.score
    assert any("上海星辰" in reason for reason in best.reasons)
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.PENDING  # nothing booked before a person decides

    with at(DAY):
        match_confirm(match=best, by=admin_user)

    charge.refresh_from_db()
    line.refresh_from_db()
    other.refresh_from_db()
    assert charge.status == ChargeStatus.PAID and line.status == LineStatus.MATCHED
    assert other.status == MatchStatus.REJECTED
    with pytest.raises(BusinessError):
        match_confirm(match=other, by=admin_user)


def test_rejecting_the_last_suggestion_leaves_an_unmatched_line(account, admin_user):
    transfer_notice("999.00")
    run_import(account, camt053(Entry("999.00", "管理费")))
    (suggestion,) = Match.objects.filter(status=MatchStatus.SUGGESTED)

    match_reject(match=suggestion, by=admin_user)

    assert StatementLine.objects.get().status == LineStatus.UNMATCHED
    assert kinds() == [DiscrepancyKind.UNMATCHED_LINE]


def test_matching_a_new_file_costs_the_same_queries_for_more_lines(
    account, django_assert_max_num_queries
):
    few = [transfer_notice(f"{100 + n}.00") for n in range(2)]
    many = [transfer_notice(f"{200 + n}.00") for n in range(12)]

    def data(charges):
        return camt053(*[Entry(str(c.amount.amount), "no reference") for c in charges])

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        run_import(account, data(few))
    with CaptureQueriesContext(connection) as large:
        run_import(account, data(many))
    # suggestions are found set-based: a line more does not add a query
    assert len(large.captured_queries) == len(small.captured_queries)


def test_money_a_statement_proves_moves_from_clearing_to_the_accounts_cash(account):
    from ledger.cash import cash_account
    from ledger.choices import AccountPurpose
    from ledger.selectors import account_balance
    from ledger.services import account_for

    paid, over = transfer_notice(), transfer_notice()
    run_import(
        account,
        camt053(Entry("3000.00", reference_of(paid)), Entry("3100.00", reference_of(over))),
    )

    clearing = account_for(
        purpose=AccountPurpose.CLEARING, currency="CNY", payment_method="bank_transfer"
    )
    assert account_balance(cash_account("icbc-cny", "CNY")) == money("6100.00", "CNY")
    assert account_balance(clearing) == money("0.00", "CNY")


def test_an_unmatched_line_is_assigned_to_the_charge_it_pays(account, admin_user):
    from reconciliation.services.discrepancies import discrepancy_assign

    charge = transfer_notice("3000.00")
    run_import(account, camt053(Entry("3000.00", "wrong ref FM-AAAA-AAAA-AAAA-A", payer="X")))
    # the same amount makes it a suggestion; reject it to have an unmatched line
    match_reject(match=Match.objects.get(status=MatchStatus.SUGGESTED), by=admin_user)
    gap = Discrepancy.objects.get(kind=DiscrepancyKind.UNMATCHED_LINE)

    with at(DAY):
        discrepancy_assign(discrepancy=gap, charge_id=charge.pk, by=admin_user)

    charge.refresh_from_db()
    gap.refresh_from_db()
    assert charge.status == ChargeStatus.PAID
    assert gap.status == "resolved" and gap.resolved_by == admin_user
    assert StatementLine.objects.get().status == LineStatus.MATCHED
    with pytest.raises(BusinessError):
        discrepancy_assign(discrepancy=gap, charge_id=charge.pk, by=admin_user)


def test_a_line_not_ours_leaves_matching_and_a_waiver_needs_a_note(account, admin_user):
    from reconciliation.services.discrepancies import (
        discrepancy_mark_not_ours,
        discrepancy_waive,
    )

    run_import(account, camt053(Entry("12.34", "利息"), Entry("-5.00", "冲正", reversal=True)))
    interest = Discrepancy.objects.get(kind=DiscrepancyKind.UNMATCHED_LINE)
    reversal = Discrepancy.objects.get(kind=DiscrepancyKind.REVERSAL)

    discrepancy_mark_not_ours(discrepancy=interest, by=admin_user, note="存款利息")
    with pytest.raises(BusinessError):
        discrepancy_waive(discrepancy=reversal, by=admin_user, note=" ")
    discrepancy_waive(discrepancy=reversal, by=admin_user, note="银行手续费冲正，金额小")

    assert StatementLine.objects.get(pk=interest.line_id).status == LineStatus.IGNORED
    assert set(Discrepancy.objects.values_list("status", flat=True)) == {"resolved", "waived"}


def test_booking_a_file_of_transfers_costs_the_same_queries_for_more_lines(account):
    """The exact pass books its transfers in one batch: matches, lines, ledger entries,
    charges and attempts are written set-based, so a line more adds no query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def data(count, start):
        charges = [transfer_notice(f"{start + n}.00") for n in range(count)]
        return charges, camt053(*[Entry(str(c.amount.amount), reference_of(c)) for c in charges])

    _first, first_file = data(1, 50)
    run_import(account, first_file)  # opens the cash and clearing accounts
    few, few_file = data(2, 100)
    many, many_file = data(12, 200)
    with CaptureQueriesContext(connection) as small:
        run_import(account, few_file)
    with CaptureQueriesContext(connection) as large:
        run_import(account, many_file)

    assert len(large.captured_queries) == len(small.captured_queries)
    # each line is inserted once, already matched: never updated afterwards
    updates = [q["sql"] for q in large.captured_queries if q["sql"].startswith("UPDATE")]
    assert not [sql for sql in updates if '"reconciliation_statementline"' in sql]
    assert set(StatementLine.objects.values_list("status", flat=True)) == {LineStatus.MATCHED}
    for charge in [*few, *many]:
        charge.refresh_from_db()
        assert charge.status == ChargeStatus.PAID


def test_a_small_rest_is_written_off_with_a_second_persons_approval(account, django_user_model):
    from django.contrib.auth.models import Permission

    from reconciliation.services.discrepancies import (
        discrepancy_write_off_approve,
        discrepancy_write_off_request,
    )

    clerk = django_user_model.objects.create_user("clerk", is_staff=True)
    manager = django_user_model.objects.create_user("manager", is_staff=True)
    manager.user_permissions.add(Permission.objects.get(codename="approve_writeoffrequest"))
    manager = django_user_model.objects.get(pk=manager.pk)
    small, large = transfer_notice("3000.00"), transfer_notice("3000.00")
    run_import(
        account,
        camt053(
            Entry("2992.50", reference_of(small)),  # the payer's bank kept 7.50
            Entry("2900.00", reference_of(large)),
        ),
    )
    gaps = {d.charge_id: d for d in Discrepancy.objects.filter(kind="partial_payment")}

    with pytest.raises(BusinessError):  # 100.00 is more than the tolerance
        discrepancy_write_off_request(discrepancy=gaps[large.pk], by=clerk, note="手续费")
    asked = discrepancy_write_off_request(discrepancy=gaps[small.pk], by=clerk, note="银行手续费")
    with pytest.raises(BusinessError), at(DAY):  # not by the one who asked
        discrepancy_write_off_approve(discrepancy=asked, by=clerk)
    with at(DAY):
        done = discrepancy_write_off_approve(discrepancy=asked, by=manager)

    small.refresh_from_db()
    assert done.status == "resolved" and done.resolved_by == manager
    assert small.status == ChargeStatus.WRITTEN_OFF
    assert outstanding(small) == money("0.00", "CNY")
    assert not hasattr(large, "write_off_requests") or not large.write_off_requests.exists()


def test_a_deposit_paid_in_full_by_a_statement_is_booked_and_a_part_is_held(account):
    from billing.models import Charge
    from contracts.services import FeeInput
    from contracts.tests.factories import make_contract
    from payments.services.collection import charge_collect

    def deposit_notice(amount):
        with at(DAY):
            contract = make_contract(
                service_start=DAY,
                signed_on=DAY,
                payment_method="bank_transfer",
                fees=[FeeInput(kind="signing", amount=amount, treatment="deposit")],
            )
            charge = Charge.objects.get(contract=contract)
            charge_collect(charge.pk, on=DAY)
        return charge

    whole, part = deposit_notice("5000.10"), deposit_notice("800.20")
    summary = run_import(
        account,
        camt053(Entry("5000.10", reference_of(whole)), Entry("400.00", reference_of(part))),
    )

    assert (summary.settled, summary.unmatched) == (1, 0)
    whole.refresh_from_db()
    part.refresh_from_db()
    assert whole.status == ChargeStatus.PAID and part.status == ChargeStatus.PENDING
    assert kinds() == [DiscrepancyKind.AMOUNT_MISMATCH]
