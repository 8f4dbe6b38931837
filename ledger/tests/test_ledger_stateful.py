"""The ledger invariant over random operation sequences (hypothesis stateful).

Charges (every treatment), prepayments, payments, prepaid applications, refunds,
write-offs, reversals and replays of earlier postings, across two customers, two
currencies and two payment methods. The machine keeps its own model of every
balance, and after every step checks that each entry's lines sum to zero, each
account's balance is the sum of its lines (added up here, in Python), the derived
balances equal the model's, and no customer balance is below zero.

Each example runs inside its own savepoint, rolled back at teardown, so the 500
examples share the test's database transaction without seeing each other's rows.
"""

import datetime as dt
import time
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from contracts.tests.factories import CustomerFactory
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import Money
from ledger import postings
from ledger.choices import AccountPurpose, EntryKind, normal_sign
from ledger.models import Account, JournalEntry, JournalLine
from ledger.selectors import account_balance, balances_for_customer, unbalanced_entries

pytestmark = pytest.mark.django_db

EXAMPLES = 500
STEPS = 16
CURRENCIES = ("CNY", "USD")
METHODS = ("alipay", "bank_transfer")
TREATMENTS = (None, None, "fee", "prepayment", "deposit")
DAY = dt.date(2026, 3, 1)
ZERO = Decimal("0.00")
CUSTOMER_KEYS = {
    "R": AccountPurpose.RECEIVABLE,
    "P": AccountPurpose.PREPAID,
    "D": AccountPurpose.DEPOSIT_HELD,
}

cents = st.integers(min_value=1, max_value=30_000)
pick = st.integers(min_value=0, max_value=10**6)


class LedgerMachine(RuleBasedStateMachine):
    customers: list[int] = []
    stats: Counter = Counter()

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        type(self).stats["examples"] += 1
        # Ledger-signed (debit positive) balance per model key:
        # ("R", customer, currency, charge)   receivable on one charge
        # ("P", customer, currency), ("D", customer, currency)
        # ("C", method, currency, charge|None) clearing, by the charge it was for
        # ("I", currency) fee income, ("W", currency) write-off expense
        self.model = defaultdict(Decimal)
        self.charges = []  # (charge id, customer, currency, treatment)
        self.paid_into = {}  # charge id -> "R" / "P" / "D"
        self.entries = []  # {"id", "deltas", "reversed", "subject"}
        self.done = []  # (call(amount), amount, entry id) of every successful posting
        self.next_id = 1

    def teardown(self):
        assert unbalanced_entries() == []  # the audit's query agrees with the sums below
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- the model ---------------------------------------------------------

    def outstanding(self, charge_id, customer, currency):
        return self.model[("R", customer, currency, charge_id)]

    def natural(self, letter, customer, currency):
        """Account-level balance on its normal side, from the model."""
        total = sum(
            (v for k, v in self.model.items() if k[:3] == (letter, customer, currency)), ZERO
        )
        return total * normal_sign(CUSTOMER_KEYS[letter])

    def attempt(self, call, amount, deltas, expect_ok, subject=""):
        """Run a posting; it must succeed exactly when the model says it may."""
        before = JournalLine.objects.count()
        try:
            entry = call(amount)
        except BusinessError:
            assert not expect_ok, "the ledger refused a posting the model allows"
            assert JournalLine.objects.count() == before, "a refused posting wrote lines"
            type(self).stats["refused"] += 1
            return None
        assert expect_ok, "the ledger accepted a posting the model refuses"
        for key, value in deltas.items():
            self.model[key] += value
        self.entries.append(
            {"id": entry.pk, "deltas": deltas, "reversed": False, "subject": subject}
        )
        self.done.append((call, amount, entry.pk))
        type(self).stats[entry.kind] += 1
        return entry

    def money_for(self, currency, n, whole, cap):
        if whole and cap > 0:
            return Money(cap, currency)
        return Money(Decimal(n) / 100, currency)

    def a_charge(self, index, wanted=None):
        """A charge, preferably one for which ``wanted`` holds (so that most
        operations are possible ones, and the refusals are near the limits)."""
        pool = [c for c in self.charges if wanted is None or wanted(c)] or self.charges
        return pool[index % len(pool)]

    def owing(self, charge):
        return self.outstanding(charge[0], charge[1], charge[2]) > 0

    def collected(self, charge):
        return any(k[0] == "C" and k[3] == charge[0] and v > 0 for k, v in self.model.items())

    # --- the operations ----------------------------------------------------

    @initialize(
        c=st.sampled_from([0, 1]),
        currency=st.sampled_from(CURRENCIES),
        n=cents,
        deposit=st.booleans(),
        prepaid=st.booleans(),
    )
    def start(self, c, currency, n, deposit, prepaid):
        """Some examples start with a fee owed beside a paid deposit and/or a
        prepaid balance of the same customer in the same currency: applying them
        needs three earlier steps to line up, which random sequences rarely do."""
        if not (deposit or prepaid):
            return
        if deposit:
            self.bill(c, currency, "deposit", n)
            self.pay(0, METHODS[0], n, False)  # the only charge so far
        self.bill(c, currency, None, n)
        if prepaid:
            self.prepay(c, currency, METHODS[1], n, None)

    @rule(
        c=st.sampled_from([0, 1]),
        currency=st.sampled_from(CURRENCIES),
        treatment=st.sampled_from(TREATMENTS),
        n=cents,
    )
    def bill(self, c, currency, treatment, n):
        customer, charge_id = self.customers[c], self.next_id
        self.next_id += 1
        amount = Money(Decimal(n) / 100, currency)
        self.charges.append((charge_id, customer, currency, treatment))
        entry = postings.post_charge(
            customer_id=customer, amount=amount, charge_id=charge_id, on=DAY, treatment=treatment
        )
        if treatment in (None, "fee"):
            a = amount.amount
            deltas = {("R", customer, currency, charge_id): a, ("I", currency): -a}
            for key, value in deltas.items():
                self.model[key] += value
            self.entries.append(
                {
                    "id": entry.pk,
                    "deltas": deltas,
                    "reversed": False,
                    "subject": f"charge:{charge_id}",
                }
            )
            self.done.append(
                (
                    lambda amt, cid=charge_id, cu=customer, t=treatment: postings.post_charge(
                        customer_id=cu, amount=amt, charge_id=cid, on=DAY, treatment=t
                    ),
                    amount,
                    entry.pk,
                )
            )
            type(self).stats[EntryKind.CHARGE] += 1
        else:
            assert entry is None

    @rule(i=pick, method=st.sampled_from(METHODS), n=cents, whole=st.booleans())
    def pay(self, i, method, n, whole):
        if not self.charges:
            return
        charge_id, customer, currency, treatment = self.a_charge(
            i, lambda c: c[3] not in (None, "fee") or self.owing(c)
        )
        letter = {None: "R", "fee": "R", "prepayment": "P", "deposit": "D"}[treatment]
        outstanding = self.outstanding(charge_id, customer, currency)
        amount = self.money_for(currency, n, whole, outstanding)
        a = amount.amount
        expect_ok = letter != "R" or a <= outstanding
        credited = (
            ("R", customer, currency, charge_id) if letter == "R" else (letter, customer, currency)
        )
        reference = f"attempt:{self.next_id}"
        self.next_id += 1
        entry = self.attempt(
            lambda amt: postings.post_payment(
                customer_id=customer,
                amount=amt,
                method=method,
                reference=reference,
                charge_id=charge_id,
                on=DAY,
                treatment=treatment,
            ),
            amount,
            {("C", method, currency, charge_id): a, credited: -a},
            expect_ok,
            subject=f"charge:{charge_id}",
        )
        if entry is not None:
            self.paid_into[charge_id] = letter

    @rule(
        c=st.sampled_from([0, 1]),
        currency=st.sampled_from(CURRENCIES),
        method=st.sampled_from(METHODS),
        n=cents,
        i=st.none() | pick,
    )
    def prepay(self, c, currency, method, n, i):
        """A top-up; half the time by a customer who owes, in that currency."""
        customer = self.customers[c]
        if i is not None and any(map(self.owing, self.charges)):
            _charge_id, customer, currency, _treatment = self.a_charge(i, self.owing)
        amount = Money(Decimal(n) / 100, currency)
        reference = f"top-up:{self.next_id}"
        self.next_id += 1
        self.attempt(
            lambda amt: postings.post_prepayment(
                customer_id=customer, amount=amt, method=method, reference=reference, on=DAY
            ),
            amount,
            {
                ("C", method, currency, None): amount.amount,
                ("P", customer, currency): -amount.amount,
            },
            True,
        )

    @rule(i=pick, n=cents, whole=st.booleans())
    def apply_prepaid(self, i, n, whole):
        if not self.charges:
            return
        charge_id, customer, currency, _treatment = self.a_charge(
            i, lambda c: self.owing(c) and self.natural("P", c[1], c[2]) > 0
        )
        outstanding = self.outstanding(charge_id, customer, currency)
        prepaid = self.natural("P", customer, currency)
        amount = self.money_for(currency, n, whole, min(outstanding, prepaid))
        a = amount.amount
        reference = f"apply:{self.next_id}"
        self.next_id += 1
        self.attempt(
            lambda amt: postings.apply_prepaid(
                customer_id=customer, amount=amt, charge_id=charge_id, on=DAY, reference=reference
            ),
            amount,
            {("P", customer, currency): a, ("R", customer, currency, charge_id): -a},
            a <= outstanding and a <= prepaid,
            subject=f"charge:{charge_id}",
        )

    @rule(i=pick, n=cents, whole=st.booleans())
    def apply_deposit(self, i, n, whole):
        if not self.charges:
            return
        charge_id, customer, currency, _treatment = self.a_charge(
            i, lambda c: self.owing(c) and self.natural("D", c[1], c[2]) > 0
        )
        outstanding = self.outstanding(charge_id, customer, currency)
        held = self.natural("D", customer, currency)
        amount = self.money_for(currency, n, whole, min(outstanding, held))
        a = amount.amount
        reference = f"deposit:{self.next_id}"
        self.next_id += 1
        self.attempt(
            lambda amt: postings.apply_deposit(
                customer_id=customer, amount=amt, charge_id=charge_id, on=DAY, reference=reference
            ),
            amount,
            {("D", customer, currency): a, ("R", customer, currency, charge_id): -a},
            a <= outstanding and a <= held,
            subject=f"charge:{charge_id}",
        )

    @rule(
        c=st.sampled_from([0, 1]),
        currency=st.sampled_from(CURRENCIES),
        method=st.sampled_from(METHODS),
        n=cents,
        whole=st.booleans(),
    )
    def refund_prepaid(self, c, currency, method, n, whole):
        """Part of a prepaid balance paid back (an overpayment's excess)."""
        customer = self.customers[c]
        prepaid = self.natural("P", customer, currency)
        amount = self.money_for(currency, n, whole, prepaid)
        a = amount.amount
        reference = f"prepaid-refund:{self.next_id}"
        self.next_id += 1
        self.attempt(
            lambda amt: postings.post_prepaid_refund(
                customer_id=customer, amount=amt, method=method, reference=reference, on=DAY
            ),
            amount,
            {("P", customer, currency): a, ("C", method, currency, None): -a},
            a <= prepaid,
        )

    @rule(i=pick, method=st.sampled_from(METHODS), n=cents, whole=st.booleans())
    def refund(self, i, method, n, whole):
        if not self.charges:
            return
        charge_id, customer, currency, _treatment = self.a_charge(i, self.collected)
        letter = self.paid_into.get(charge_id)
        cash = self.model[("C", method, currency, charge_id)]
        cap = cash if letter in (None, "R") else min(cash, self.natural(letter, customer, currency))
        amount = self.money_for(currency, n, whole, cap)
        a = amount.amount
        debited = {
            "R": ("I", currency),
            "P": ("P", customer, currency),
            "D": ("D", customer, currency),
            None: ("I", currency),
        }[letter]
        reference = f"refund:{self.next_id}"
        self.next_id += 1
        self.attempt(
            lambda amt: postings.post_refund(
                customer_id=customer,
                amount=amt,
                method=method,
                reference=reference,
                charge_id=charge_id,
                on=DAY,
            ),
            amount,
            {debited: a, ("C", method, currency, charge_id): -a},
            letter is not None and a <= cap,
            subject=f"charge:{charge_id}",
        )

    @rule(i=pick, n=cents, whole=st.booleans())
    def write_off(self, i, n, whole):
        if not self.charges:
            return
        charge_id, customer, currency, _treatment = self.a_charge(i, self.owing)
        outstanding = self.outstanding(charge_id, customer, currency)
        amount = self.money_for(currency, n, whole, outstanding)
        a = amount.amount
        reference = f"write-off:{self.next_id}"
        self.next_id += 1
        self.attempt(
            lambda amt: postings.post_write_off(
                customer_id=customer, amount=amt, charge_id=charge_id, on=DAY, reference=reference
            ),
            amount,
            {("W", currency): a, ("R", customer, currency, charge_id): -a},
            a <= outstanding,
            subject=f"charge:{charge_id}",
        )

    @rule(i=pick)
    def reverse(self, i):
        if not self.entries:
            return
        original = self.entries[i % len(self.entries)]
        deltas = original["deltas"]
        expect_ok = not original["reversed"]
        for key, value in deltas.items():
            if key[0] in CUSTOMER_KEYS:
                after = self.natural(key[0], key[1], key[2]) - value * normal_sign(
                    CUSTOMER_KEYS[key[0]]
                )
                expect_ok &= after >= 0
            if original["subject"] and key[0] in ("R", "C"):
                expect_ok &= self.model[key] - value >= 0
        reference = f"reversal:{self.next_id}"
        self.next_id += 1
        entry = JournalEntry.objects.get(pk=original["id"])
        done = self.attempt(
            lambda _amt: postings.post_reversal(entry=entry, on=DAY, reference=reference),
            None,
            {key: -value for key, value in deltas.items()},
            expect_ok,
        )
        if done is not None:
            original["reversed"] = True
            self.entries[-1]["reversed"] = True  # a reversal is not reversed again

    @rule(i=pick, tamper=st.booleans())
    def replay(self, i, tamper):
        """A retried task posts again: same reference, same entry, nothing new;
        the same reference with another amount is refused."""
        if not self.done:
            return
        call, amount, entry_id = self.done[i % len(self.done)]
        before = (JournalEntry.objects.count(), JournalLine.objects.count())
        if tamper and amount is not None:
            with pytest.raises(BusinessError) as refused:
                call(amount + Money("0.01", amount.currency))
            assert refused.value.code == "reference_reused"
        else:
            assert call(amount).pk == entry_id
        assert (JournalEntry.objects.count(), JournalLine.objects.count()) == before
        type(self).stats["replays"] += 1

    # --- after every step --------------------------------------------------

    @invariant()
    def ledger_is_consistent(self):
        type(self).stats["checks"] += 1
        lines = list(JournalLine.objects.values_list("entry_id", "account_id", "amount"))
        per_entry, per_account = defaultdict(Decimal), defaultdict(Decimal)
        lines_per_entry = Counter()
        for entry_id, account_id, amount in lines:
            per_entry[entry_id] += amount
            per_account[account_id] += amount
            lines_per_entry[entry_id] += 1
        assert all(total == 0 for total in per_entry.values()), "an entry does not balance"
        assert all(n >= 2 for n in lines_per_entry.values())
        assert set(lines_per_entry) == set(JournalEntry.objects.values_list("id", flat=True))

        for account in Account.objects.all():
            derived = account_balance(account)
            assert derived == Money(per_account[account.pk], account.currency), account
            expected = self.expected_balance(account)
            assert derived.amount == expected, (account, derived, expected)

        for customer in self.customers:
            for currency in CURRENCIES:
                balances = balances_for_customer(customer_id=customer, currency=currency)
                for letter, purpose in CUSTOMER_KEYS.items():
                    assert balances[purpose].amount == self.natural(letter, customer, currency)
                    assert balances[purpose].amount >= 0, (purpose, balances[purpose])
        assert all(v >= 0 for k, v in self.model.items() if k[0] == "R")

    def expected_balance(self, account):
        purpose, currency = account.purpose, account.currency
        if purpose == AccountPurpose.CLEARING:
            match = lambda k: k[:3] == ("C", account.payment_method, currency)  # noqa: E731
        elif purpose == AccountPurpose.FEE_INCOME:
            match = lambda k: k == ("I", currency)  # noqa: E731
        elif purpose == AccountPurpose.WRITE_OFF:
            match = lambda k: k == ("W", currency)  # noqa: E731
        else:
            letter = {v: k for k, v in CUSTOMER_KEYS.items()}[purpose]
            match = lambda k: k[:3] == (letter, account.customer_id, currency)  # noqa: E731
        return sum((v for k, v in self.model.items() if match(k)), ZERO)


def test_every_posting_sequence_keeps_the_ledger_balanced():
    LedgerMachine.customers = [CustomerFactory().pk, CustomerFactory().pk]
    LedgerMachine.stats = Counter()
    started = time.perf_counter()
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    elapsed = time.perf_counter() - started
    stats = LedgerMachine.stats
    print(
        f"\nledger state machine: {stats['examples']} examples, {stats['checks']} checks, "
        f"{elapsed:.1f} s; {dict(stats)}"
    )
    assert stats["examples"] >= EXAMPLES
    # the sequences reach every kind of posting about customers, and refusals too
    # (deposit refunds are rare: they need a deposit charge, its payment and a
    # refund in one example); the company's cash and
    # gateway fees have their own property test (test_cash.py): they have no caps
    # for this machine to probe
    company = (EntryKind.CASH_RECEIPT, EntryKind.CASH_PAYMENT, EntryKind.GATEWAY_FEE)
    for kind in (*EntryKind.values, "refused", "replays"):
        if kind not in (EntryKind.REFUND, EntryKind.DEPOSIT_REFUND, *company):
            assert stats[kind] > 0, kind
    assert stats[EntryKind.REFUND] + stats[EntryKind.DEPOSIT_REFUND] > 0
