"""What the auto_debit adapter may learn from, and ask of, the debtor's bank.

A SEPA direct debit has no gateway: the debit goes into our next pain.008 file and its
outcome comes back in the bank's pain.002 status report and camt.054 notification
(:mod:`.iso20022`). Without a link (the default, ``options["link"]`` empty) the adapter
knows nothing after accepting a debit: ``query`` says PENDING and a refund is a manual
credit transfer.

A :class:`DebitLink` is what can answer instead: a bank interface that takes a debit
under a mandate at once and reports it. :class:`SimulatedDebitBank` is one in memory,
**for tests only** (the contract suite and the payments services' tests): the test says
which debtors pay (:meth:`~SimulatedDebitBank.expect_payment`) or which debits their
bank rejects (:meth:`~SimulatedDebitBank.expect_rejection`); a key is debited once
whatever repeats it, and refunds never exceed what was collected.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from feemgmt.core.money import Money
from payments.adapters.auto_debit.iso20022 import Mandate
from payments.adapters.base import AttemptStatus, refund_refusal

__all__ = [
    "DebitLink",
    "LinkConflict",
    "LinkDebit",
    "LinkRefund",
    "SimulatedDebitBank",
]


class LinkConflict(Exception):
    """The same key was already used for a different debit or refund."""


@dataclass(kw_only=True)
class LinkDebit:
    """A debit as the bank side knows it: what was asked, what was taken, what went back."""

    idempotency_key: str
    amount: Money
    mandate_reference: str
    status: AttemptStatus
    error_code: str | None = None
    takes: list[Money] = field(default_factory=list)  # money actually taken (once)
    refunded: Money | None = None

    @property
    def collected(self) -> Money | None:
        return self.takes[0] if self.takes else None


@dataclass(frozen=True, kw_only=True)
class LinkRefund:
    idempotency_key: str
    end_to_end_id: str
    refund_no: str
    amount: Money
    status: AttemptStatus
    error_code: str | None = None


class DebitLink(Protocol):
    def debit(self, *, idempotency_key: str, amount: Money, mandate: Mandate) -> LinkDebit:
        """Debit the debtor under ``mandate`` (the same key again is the same debit)."""

    def lookup(self, idempotency_key: str) -> LinkDebit | None:
        """The debit with this key, or None if the bank never received it."""

    def refund(self, *, idempotency_key: str, end_to_end_id: str, amount: Money) -> LinkRefund:
        """Send ``amount`` back to the debtor (the same key again is the same refund)."""


class SimulatedDebitBank:
    """A debtor bank in memory, for tests: debits per key, refunds capped.

    A debit is SUCCEEDED when the test said the debtor pays, DECLINED with the code
    the test gave when their bank rejects it, PENDING otherwise (until :meth:`settle`).
    ``currencies`` limits what it collects (None: any).
    """

    def __init__(self, currencies: Iterable[str] | None = None):
        self.currencies = frozenset(currencies) if currencies is not None else None
        self._lock = threading.Lock()
        self._debits: dict[str, LinkDebit] = {}
        self._refunds: dict[str, LinkRefund] = {}
        self._payers: set[str] = set()
        self._rejections: dict[str, str] = {}
        self._numbers = itertools.count(1)

    def expect_payment(self, idempotency_key: str) -> None:
        """The debtor's account pays the debit with this key as soon as it arrives."""
        with self._lock:
            self._payers.add(idempotency_key)

    def expect_rejection(self, idempotency_key: str, error_code: str) -> None:
        """The debtor's bank rejects the debit with this key (e.g. "insufficient_funds")."""
        with self._lock:
            self._rejections[idempotency_key] = error_code

    def debit(self, *, idempotency_key: str, amount: Money, mandate: Mandate) -> LinkDebit:
        with self._lock:
            known = self._debits.get(idempotency_key)
            if known is not None:
                if known.amount != amount or known.mandate_reference != mandate.reference:
                    raise LinkConflict(f"{idempotency_key} was a debit of {known.amount}")
                return known
            record = LinkDebit(
                idempotency_key=idempotency_key,
                amount=amount,
                mandate_reference=mandate.reference,
                status=AttemptStatus.PENDING,
            )
            if self.currencies is not None and amount.currency.code not in self.currencies:
                record.status, record.error_code = AttemptStatus.DECLINED, "currency_not_supported"
            elif idempotency_key in self._rejections:
                record.status = AttemptStatus.DECLINED
                record.error_code = self._rejections[idempotency_key]
            elif idempotency_key in self._payers:
                record.status = AttemptStatus.SUCCEEDED
                record.takes.append(amount)
            self._debits[idempotency_key] = record
            return record

    def settle(self, idempotency_key: str) -> None:
        """A PENDING debit is paid (the bank's later settlement)."""
        with self._lock:
            record = self._debits[idempotency_key]
            if record.status == AttemptStatus.PENDING:
                record.status = AttemptStatus.SUCCEEDED
                record.takes.append(record.amount)

    def lookup(self, idempotency_key: str) -> LinkDebit | None:
        with self._lock:
            return self._debits.get(idempotency_key)

    def refund(self, *, idempotency_key: str, end_to_end_id: str, amount: Money) -> LinkRefund:
        with self._lock:
            done = self._refunds.get(idempotency_key)
            if done is not None:
                if done.end_to_end_id != end_to_end_id or done.amount != amount:
                    raise LinkConflict(f"refund {idempotency_key} was for {done.amount}")
                return done
            record = self._debits.get(end_to_end_id)
            if record is None:
                error = "unknown_payment"
            else:
                error = refund_refusal(
                    collected=record.collected, refunded=record.refunded, amount=amount
                )
                if error is None:
                    record.refunded = (record.refunded or Money(0, amount.currency)) + amount
            refund = LinkRefund(
                idempotency_key=idempotency_key,
                end_to_end_id=end_to_end_id,
                refund_no=f"SDR{next(self._numbers):010d}",
                amount=amount,
                status=AttemptStatus.DECLINED if error else AttemptStatus.SUCCEEDED,
                error_code=error,
            )
            if error is None:
                self._refunds[idempotency_key] = refund
            return refund
