"""What the bank transfer adapter may learn from, and ask of, the bank.

A bank transfer has no gateway: the customer pays a notice from their own bank, and the
money is known only when reconciliation matches a statement line to the notice's
remittance reference (:func:`~.reference.parse_remittance_reference`). Without a link
(the default, ``options["link"]`` empty) the adapter knows nothing after issuing the
notice: ``query`` says PENDING and a refund is a manual outbound transfer.

A :class:`BankLink` is what can answer instead: the reconciled side of the bank account
(which references were matched, for how much) and, where the bank offers a corporate
payment API (银企直连), outbound refund transfers. :class:`SimulatedBank` is one in
memory, for the demo and the contract tests (``simulated_bank`` plays the customer's
transfer and reconciliation's match).
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Protocol

from feemgmt.core.money import Money, money
from payments.adapters.base import AttemptStatus, refund_refusal

__all__ = [
    "SIMULATED_BANK",
    "BankLink",
    "BankNotice",
    "BankRefund",
    "LinkConflict",
    "SimulatedBank",
]


class LinkConflict(Exception):
    """The same key was already used for a different notice or refund."""


@dataclass(kw_only=True)
class BankNotice:
    """A payment notice as the bank side knows it: what was asked and what came in."""

    reference: str
    idempotency_key: str
    amount: Money
    credits: list[Money] = field(default_factory=list)  # reconciled statement lines
    refunded: Money | None = None

    @property
    def received(self) -> Money | None:
        if not self.credits:
            return None
        total = money("0", self.amount.currency.code)
        for credit in self.credits:
            total = total + credit
        return total


@dataclass(frozen=True, kw_only=True)
class BankRefund:
    idempotency_key: str
    reference: str
    refund_no: str
    amount: Money
    status: AttemptStatus
    error_code: str | None = None


class BankLink(Protocol):
    def issue(self, *, reference: str, idempotency_key: str, amount: Money) -> BankNotice:
        """Record a notice (the same key again returns the same notice)."""

    def notice(self, reference: str) -> BankNotice | None:
        """The notice with its reconciled credits, or None if never issued."""

    def refund(self, *, idempotency_key: str, reference: str, amount: Money) -> BankRefund:
        """Send ``amount`` back to the payer (the same key again is the same refund)."""


class SimulatedBank:
    """A bank account in memory: notices, reconciled credits and outbound refunds."""

    def __init__(self):
        self._lock = threading.Lock()
        self._notices: dict[str, BankNotice] = {}
        self._refunds: dict[str, BankRefund] = {}
        self._payers: set[str] = set()
        self._numbers = itertools.count(1)

    def reset(self) -> None:
        with self._lock:
            self._notices.clear()
            self._refunds.clear()
            self._payers.clear()

    def expect_payment(self, reference: str) -> None:
        """The customer pays ``reference``'s notice in full as soon as it is issued,
        and reconciliation matches the statement line (demo, contract tests)."""
        with self._lock:
            self._payers.add(reference)

    def issue(self, *, reference: str, idempotency_key: str, amount: Money) -> BankNotice:
        with self._lock:
            notice = self._notices.get(reference)
            if notice is None:
                notice = BankNotice(
                    reference=reference, idempotency_key=idempotency_key, amount=amount
                )
                self._notices[reference] = notice
                if reference in self._payers:
                    notice.credits.append(amount)
            elif notice.idempotency_key != idempotency_key or notice.amount != amount:
                raise LinkConflict(f"{reference} was issued for {notice.amount}")
            return notice

    def notice(self, reference: str) -> BankNotice | None:
        with self._lock:
            return self._notices.get(reference)

    def credit(self, reference: str, amount: Money) -> None:
        """A statement line reconciled to ``reference`` (the customer paid)."""
        with self._lock:
            notice = self._notices.get(reference)
            if notice is None:
                raise KeyError(reference)
            notice.credits.append(amount)

    def refund(self, *, idempotency_key: str, reference: str, amount: Money) -> BankRefund:
        with self._lock:
            done = self._refunds.get(idempotency_key)
            if done is not None:
                if done.reference != reference or done.amount != amount:
                    raise LinkConflict(f"refund {idempotency_key} was for {done.amount}")
                return done
            notice = self._notices.get(reference)
            if notice is None:
                error = "unknown_payment"
            else:
                error = refund_refusal(
                    collected=notice.received, refunded=notice.refunded, amount=amount
                )
                if error is None:
                    notice.refunded = (notice.refunded or Money(0, amount.currency)) + amount
            refund = BankRefund(
                idempotency_key=idempotency_key,
                reference=reference,
                refund_no=f"BTR{next(self._numbers):010d}",
                amount=amount,
                status=AttemptStatus.DECLINED if error else AttemptStatus.SUCCEEDED,
                error_code=error,
            )
            if error is None:
                self._refunds[idempotency_key] = refund
            return refund


SIMULATED_BANK = SimulatedBank()
