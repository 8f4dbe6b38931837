"""Cash at the receiving accounts and gateway fees: whatever sequence of statement
movements, every entry balances and each account holds exactly the sum of what moved
through it, and a repeated movement (same reference) posts once."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import Money
from ledger import cash
from ledger.choices import AccountPurpose
from ledger.models import JournalEntry
from ledger.selectors import account_balance, unbalanced_entries
from ledger.services import account_for

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 2)
movement = st.tuples(
    st.sampled_from(["receipt", "payment", "fee"]),
    st.sampled_from(["bank_transfer", "alipay"]),
    st.sampled_from(["icbc-cny", "cmb-cny"]),
    st.integers(min_value=-20_000, max_value=20_000),
    st.integers(min_value=0, max_value=5),  # which reference: repeats post once
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(movement, min_size=1, max_size=12))
def test_cash_and_fees_follow_the_movements(movements):
    expected: dict[tuple, Decimal] = defaultdict(Decimal)
    posted: dict[str, tuple] = {}
    with transaction.atomic():
        for operation, method, bank, cents, ref in movements:
            amount = Money(Decimal(cents) / 100, "CNY")
            reference = f"{operation}:{ref}"
            post = {
                "receipt": lambda a, r, m=method, b=bank: cash.post_cash_receipt(
                    bank_account=b, method=m, amount=a, reference=r, on=DAY
                ),
                "payment": lambda a, r, m=method, b=bank: cash.post_cash_payment(
                    bank_account=b, method=m, amount=a, reference=r, on=DAY
                ),
                "fee": lambda a, r, m=method: cash.post_gateway_fee(
                    method=m, amount=a, reference=r, on=DAY
                ),
            }[operation]
            allowed = cents != 0 and (operation == "fee" or cents > 0)
            # a gateway fee is not booked to a bank account: the bank drawn is no difference
            what = (method, bank if operation != "fee" else None, cents)
            same = posted.get(reference) == what
            try:
                post(amount, reference)
            except BusinessError:
                assert not allowed or (reference in posted and not same)
                continue
            assert allowed
            if reference in posted:
                assert same  # a repeat: nothing new
                continue
            posted[reference] = what
            a = amount.amount
            if operation == "fee":
                expected["fees"] += a
                expected["clearing", method] -= a
            else:
                sign = 1 if operation == "receipt" else -1
                expected["cash", bank] += sign * a
                expected["clearing", method] -= sign * a
        assert unbalanced_entries() == []
        assert JournalEntry.objects.count() == len(posted)
        for bank in ("icbc-cny", "cmb-cny"):
            assert account_balance(cash.cash_account(bank, "CNY")).amount == expected["cash", bank]
        for method in ("bank_transfer", "alipay"):
            clearing = account_for(
                purpose=AccountPurpose.CLEARING, currency="CNY", payment_method=method
            )
            assert account_balance(clearing).amount == expected["clearing", method]
        fees = account_for(purpose=AccountPurpose.GATEWAY_FEES, currency="CNY")
        assert account_balance(fees).amount == expected["fees"]
        transaction.set_rollback(True)
