"""The bank's side of a SEPA direct debit, for tests.

- :class:`AutoDebitHarness` drives the auto_debit adapter in the contract suite through
  a :class:`~payments.adapters.auto_debit.SimulatedDebitBank` link.
- :func:`pain002_for`, :func:`camt054_for` and :func:`camt054` (from
  :mod:`payments.adapters.auto_debit.bank_files`) answer our pain.008 files as a bank
  would; the payments services' tests feed them back.
"""

from __future__ import annotations

import itertools

from feemgmt.core.money import money
from payments.adapters import CollectionRequest, get_adapter
from payments.adapters.auto_debit import SimulatedDebitBank
from payments.adapters.auto_debit.bank_files import Booking, camt054, camt054_for, pain002_for

__all__ = [
    "DEBTOR_IBAN",
    "AutoDebitHarness",
    "Booking",
    "camt054",
    "camt054_for",
    "mandate_metadata",
    "pain002_for",
]

DEBTOR_IBAN = "DE89370400440532013000"
_keys = itertools.count(1)


def mandate_metadata(**overrides: str) -> dict[str, str]:
    """A valid mandate as a collection request's metadata (overrides replace keys; an
    empty string removes one)."""
    metadata = {
        "mandate_reference": "MNDT-2026-0001",
        "mandate_signed_on": "2026-01-15",
        "debtor_name": "Zhang San",
        "debtor_iban": DEBTOR_IBAN,
        "debtor_bic": "COBADEFFXXX",
        "sequence_type": "RCUR",
    }
    metadata.update(overrides)
    return {key: value for key, value in metadata.items() if value != ""}


class AutoDebitHarness:
    """Plays the debtor's bank for the auto_debit adapter, which has no gateway.

    Without a link a direct debit is PENDING until the bank's files arrive and its refund
    is a manual transfer; the contract's rules assume a gateway that settles and
    refunds. So the harness gives this process's adapter a
    :class:`SimulatedDebitBank` (the registry's cache is rebuilt after each test) and a
    "succeeding request" is one whose debtor pays at once. The contract collects in
    CNY: the simulated bank takes any currency (the file path is EUR only, see
    test_auto_debit.py).
    """

    def __init__(self, name: str, settings=None):
        self.name = name
        self.bank = SimulatedDebitBank()
        get_adapter(name).link = self.bank

    def succeeding_request(self, amount: str = "100.00") -> CollectionRequest:
        request = CollectionRequest(
            idempotency_key=f"DD{next(_keys):06d}",
            amount=money(amount, "CNY"),
            reference="CHG-0001",
            description="Client management fee, March",
            customer_ref="CUST-1",
            metadata={**mandate_metadata(), "bank_account": "6222021234567890123"},
        )
        self.bank.expect_payment(request.idempotency_key)
        return request

    def debits(self, idempotency_key: str) -> int:
        record = self.bank.lookup(idempotency_key)
        return len(record.takes) if record else 0

    def notification(self, idempotency_key: str) -> tuple[dict[str, str], bytes]:
        raise AssertionError("a direct debit has no notifications")

    def secrets(self) -> list[str]:
        # Nothing secret; the debtor's IBAN is kept only masked.
        return [DEBTOR_IBAN]
