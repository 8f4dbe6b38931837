"""The simulated gateway behind the sandbox adapter: the remote side, in memory.

What a real gateway does with an idempotency key (``out_trade_no``) is the point: the
first request with a key decides the payment, every later one gets that payment back,
so the same key never debits twice. One store per process, shared by every adapter
instance and thread; a per-key lock serialises requests for one key (as a gateway's
row lock does) while requests for different keys run side by side.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal

from feemgmt.core.money import Money, minor_digits
from payments.adapters.base import AttemptStatus, refund_refusal

__all__ = ["GATEWAY", "OUTCOMES", "SandboxGateway", "SandboxPayment", "SandboxRefund"]

# Scripted outcomes (success, decline, timeout then success, duplicate
# notification, slow), chosen by the request's metadata or the adapter's option
# ``sandbox_outcome``, or else by the last two digits of the amount in minor units.
OUTCOMES = (
    "success",
    "decline",
    "insufficient_funds",
    "timeout_then_success",
    "timeout_failed",
    "duplicate_notification",
    "slow",
    "pending",
)
CENTS_OUTCOMES = {
    51: "decline",
    52: "insufficient_funds",
    61: "timeout_then_success",
    62: "timeout_failed",
    71: "duplicate_notification",
    81: "slow",
    91: "pending",
}
DECLINE_CODES = {"decline": "card_declined", "insufficient_funds": "insufficient_funds"}


def outcome_for_amount(amount: Money) -> str:
    """``12.51`` → decline, ``12.61`` → timeout then success... (see CENTS_OUTCOMES)."""
    minor = int(amount.amount * Decimal(10) ** minor_digits(amount.currency.code))
    return CENTS_OUTCOMES.get(minor % 100, "success")


@dataclass(frozen=True)
class SandboxPayment:
    idempotency_key: str
    trade_no: str
    amount: Money
    outcome: str
    status: AttemptStatus
    error_code: str | None = None
    refunded: Money | None = None
    notify_url: str | None = None
    request: dict = field(default_factory=dict)  # what the merchant sent, redacted
    deliveries: int = 0  # how many times the gateway sends its notification


@dataclass(frozen=True)
class SandboxRefund:
    idempotency_key: str
    refund_no: str | None
    trade_no: str
    amount: Money
    status: AttemptStatus
    error_code: str | None = None


class IdempotencyConflict(Exception):
    """The key was used before with another amount or payment."""


class SandboxGateway:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget everything (tests start from an empty gateway)."""
        with self._lock:
            self._key_locks: dict[str, threading.Lock] = {}
            self._payments: dict[str, SandboxPayment] = {}
            self._by_trade_no: dict[str, str] = {}
            self._refunds: dict[str, SandboxRefund] = {}
            self._debits: list[tuple[str, Money]] = []

    def _key_lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    # --- collections ---------------------------------------------------------------

    def charge(
        self,
        *,
        idempotency_key: str,
        amount: Money,
        outcome: str,
        slow_seconds: float,
        notify_url: str | None,
        request: dict,
    ) -> tuple[SandboxPayment, bool]:
        """Decide the payment for a key the first time; return it, and whether it is new."""
        with self._key_lock(idempotency_key):
            existing = self.payment(idempotency_key)
            if existing is not None:
                if existing.amount != amount or existing.amount.currency != amount.currency:
                    raise IdempotencyConflict(
                        f"key {idempotency_key} was used for {existing.amount}, not {amount}"
                    )
                return existing, False
            if outcome == "slow":
                time.sleep(slow_seconds)
            if outcome in DECLINE_CODES or outcome == "timeout_failed":
                status = AttemptStatus.DECLINED
            elif outcome == "pending":
                status = AttemptStatus.PENDING
            else:
                status = AttemptStatus.SUCCEEDED
            payment = SandboxPayment(
                idempotency_key=idempotency_key,
                trade_no=f"SBX{uuid.uuid4().hex[:20].upper()}",
                amount=amount,
                outcome=outcome,
                status=status,
                error_code=DECLINE_CODES.get(outcome, "card_declined")
                if status == AttemptStatus.DECLINED
                else None,
                refunded=Money(0, amount.currency),
                notify_url=notify_url,
                request=request,
            )
            self._store(self._settled(payment))
            return self.payment(idempotency_key), True

    def settle(self, idempotency_key: str, *, succeed: bool = True) -> SandboxPayment:
        """The customer pays (or abandons) a PENDING payment: scanning the QR code."""
        with self._key_lock(idempotency_key):
            payment = self.payment(idempotency_key)
            if payment is None:
                raise KeyError(idempotency_key)
            if payment.status != AttemptStatus.PENDING:
                return payment
            status = AttemptStatus.SUCCEEDED if succeed else AttemptStatus.DECLINED
            payment = replace(
                payment, status=status, error_code=None if succeed else "card_declined"
            )
            self._store(self._settled(payment))
            return self.payment(idempotency_key)

    def _settled(self, payment: SandboxPayment) -> SandboxPayment:
        if payment.status == AttemptStatus.PENDING:
            return payment
        if payment.status == AttemptStatus.SUCCEEDED:
            with self._lock:
                self._debits.append((payment.idempotency_key, payment.amount))
        return replace(payment, deliveries=2 if payment.outcome == "duplicate_notification" else 1)

    def _store(self, payment: SandboxPayment) -> None:
        with self._lock:
            self._payments[payment.idempotency_key] = payment
            self._by_trade_no[payment.trade_no] = payment.idempotency_key

    def payment(self, idempotency_key: str) -> SandboxPayment | None:
        with self._lock:
            return self._payments.get(idempotency_key)

    def payment_by_trade_no(self, trade_no: str) -> SandboxPayment | None:
        with self._lock:
            key = self._by_trade_no.get(trade_no)
            return self._payments.get(key) if key else None

    def debits(self, idempotency_key: str | None = None) -> list[tuple[str, Money]]:
        """Every time money was taken (for one key, or all)."""
        with self._lock:
            return [d for d in self._debits if idempotency_key in (None, d[0])]

    # --- refunds -------------------------------------------------------------------

    def refund(self, *, idempotency_key: str, trade_no: str, amount: Money) -> SandboxRefund:
        """Refund at most what was collected minus what was refunded, once per key."""
        with self._lock:
            existing = self._refunds.get(idempotency_key)
            if existing is not None:
                if existing.trade_no != trade_no or existing.amount != amount:
                    raise IdempotencyConflict(f"refund key {idempotency_key} was used before")
                return existing
            key = self._by_trade_no.get(trade_no)
            payment = self._payments.get(key) if key else None
            if payment is None:
                error = "unknown_payment"
            else:
                succeeded = payment.status == AttemptStatus.SUCCEEDED
                error = refund_refusal(
                    collected=payment.amount if succeeded else None,
                    refunded=payment.refunded,
                    amount=amount,
                )
            if error:
                refund = SandboxRefund(
                    idempotency_key, None, trade_no, amount, AttemptStatus.DECLINED, error
                )
            else:
                refund = SandboxRefund(
                    idempotency_key,
                    f"SBR{uuid.uuid4().hex[:20].upper()}",
                    trade_no,
                    amount,
                    AttemptStatus.SUCCEEDED,
                )
                self._payments[key] = replace(payment, refunded=payment.refunded + amount)
            self._refunds[idempotency_key] = refund
            return refund


GATEWAY = SandboxGateway()
