"""The one small interface every payment method speaks (docs/collection.md).

Kill Bill's plugin shape: start a collection, fetch its status, refund, and verify an
inbound notification, each with a typed frozen request and result. Adapters hold no
state of ours and never touch the ORM; the payments services turn a result into rows,
ledger postings and retries. Two rules the services rely on:

- Every request carries an idempotency key that goes to the gateway unchanged (as its
  ``out_trade_no``), so the same key never takes the money twice, whoever repeats it.
- A timeout raises :class:`GatewayTimeout`: the outcome is *unknown*, never a failure.
  The service queries the gateway with the same key before anything else happens.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _

from feemgmt.core.money import Money, quantize

__all__ = [
    "ActionKind",
    "AdapterError",
    "AttemptStatus",
    "CollectionRequest",
    "CollectionResult",
    "CustomerAction",
    "GatewayTimeout",
    "Notification",
    "NotificationRejected",
    "PaymentAdapter",
    "RefundRequest",
    "RefundResult",
    "error_text",
    "freeze",
    "mask_account",
    "redact",
    "refund_refusal",
    "thaw",
]

# One key goes to every gateway unchanged, so it fits the strictest of them:
# WeChat Pay's out_trade_no is 6-32 characters of letters, digits, "_" and "-"
# (Alipay allows 64).
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{6,32}$")


class AttemptStatus(StrEnum):
    """What the gateway says about an attempt (the service maps it to its own states)."""

    SUCCEEDED = "succeeded"
    PENDING = "pending"  # accepted, waiting for the customer or the bank
    DECLINED = "declined"  # no money was taken; a retry is safe
    UNKNOWN = "unknown"  # query before doing anything else


class ActionKind(StrEnum):
    """What the customer has to do to complete a pending collection."""

    PAY_URL = "pay_url"
    QR_CODE = "qr_code"
    PAYMENT_NOTICE = "payment_notice"  # bank transfer: pay this reference


# --- Error vocabulary ---------------------------------------------------------
# Results carry a stable ``error_code``; these are the codes finance staff may see,
# with their wording. Render with :func:`error_text` in the viewer's language (the
# result's ``error_message`` is the text as it was when the gateway answered).
ERROR_MESSAGES: Mapping[str, Any] = {
    "card_declined": _("The payer's bank declined the payment."),
    "insufficient_funds": _("The payer's account has insufficient funds."),
    "not_found": _("The gateway has no record of this payment."),
    "unknown_payment": _("The gateway has no record of the original payment."),
    "payment_not_refundable": _("Only a successful payment can be refunded."),
    "refund_exceeds_available": _(
        "The refund is more than what was collected and not yet refunded."
    ),
    "currency_mismatch": _("The refund's currency differs from the payment's."),
    "gateway_timeout": _(
        "The payment gateway did not answer in time; the outcome is unknown until "
        "the gateway is queried."
    ),
    "idempotency_conflict": _("The same idempotency key was already used for a different payment."),
    "adapter_error": _("The payment gateway could not process the request."),
}


def error_text(code: str | None) -> str:
    """The message for an error code, in the active language (the code if unknown)."""
    if not code:
        return ""
    message = ERROR_MESSAGES.get(code)
    return str(message) if message is not None else code


# --- Exceptions -----------------------------------------------------------------


class AdapterError(Exception):
    """The gateway could not be asked or refused the request itself (not a decline).

    A decline is a result, not an exception: money was not taken and a retry is
    safe. An ``AdapterError`` means the request was malformed, misconfigured or the
    gateway answered with an error; the attempt's outcome is whatever a query says.
    """

    default_code = "adapter_error"

    def __init__(self, message: Any = None, *, code: str | None = None, detail: str = ""):
        self.code = code or self.default_code
        self.message = message if message is not None else ERROR_MESSAGES.get(self.code, "")
        self.detail = detail  # for logs: gateway text, never secrets
        super().__init__(str(self.message) + (f" ({detail})" if detail else ""))


class GatewayTimeout(AdapterError):
    """No answer in time: the status is UNKNOWN (the payment may have gone through)."""

    default_code = "gateway_timeout"
    status = AttemptStatus.UNKNOWN


class NotificationRejected(AdapterError):
    """An inbound notification that must not change anything.

    ``reason`` is one of :attr:`REASONS`. ``ack_body``/``ack_status`` are what the
    endpoint replies, so the gateway knows the notification was refused.
    """

    default_code = "notification_rejected"
    REASONS: ClassVar[Mapping[str, Any]] = {
        "bad_signature": _("The notification's signature is not valid."),
        "wrong_app_id": _("The notification is addressed to another merchant application."),
        "amount_mismatch": _("The notified amount does not match the payment."),
        "stale_timestamp": _(
            "The notification's timestamp is outside the window the gateway allows."
        ),
        "replay": _("The notification was already used."),
        "unknown_payment": _("The notification refers to a payment the gateway has no record of."),
        "malformed": _("The notification could not be read."),
    }

    def __init__(
        self,
        reason: str,
        detail: str = "",
        *,
        ack_body: bytes = b"fail",
        ack_status: int = 400,
    ):
        if reason not in self.REASONS:
            raise ValueError(f"unknown rejection reason {reason!r}")
        self.reason = reason
        self.ack_body = ack_body
        self.ack_status = ack_status
        super().__init__(self.REASONS[reason], code=reason, detail=detail)


# --- Immutable payloads -----------------------------------------------------------------

# Words of a payload key (snake_case, camelCase or kebab-case) that mark a secret,
# dropped from a kept payload, and an account number, masked to its last four digits.
SECRET_WORDS = frozenset(
    {"secret", "password", "passwd", "token", "sign", "signature", "private", "apikey", "hmac"}
)
SECRET_KEYS = frozenset({"key", "api_key", "app_key", "apiv3_key", "mch_key"})
ACCOUNT_WORDS = frozenset({"account", "acct", "card", "iban", "pan"})
_LONG_NUMBER = re.compile(r"^[\d\s-]{8,}$")


@lru_cache(maxsize=4096)  # payload keys are a small vocabulary, met on every call
def _words(key: str) -> frozenset[str]:
    return frozenset(w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", key))


def freeze(value: Any) -> Any:
    """A read-only copy: mappings become mappingproxies, lists tuples (recursively)."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The plain dicts and lists of a frozen payload (to store it as JSON)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


@lru_cache(maxsize=4096)
def _is_secret(key: str) -> bool:
    return key.lower() in SECRET_KEYS or bool(_words(key) & SECRET_WORDS)


def mask_account(value: str) -> str:
    """``6222021234567890123`` → ``***************0123``."""
    text = "".join(str(value).split())
    return "*" * max(len(text) - 4, 4) + text[-4:] if len(text) > 4 else "****"


def redact(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """A payload safe to keep: secrets and signatures dropped, account numbers masked.

    Keys are matched by their words (``sign``, ``app_secret``, ``bankAccount``...), at any
    depth; an account-like key's value is masked when it is a long number.
    """

    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, Mapping):
            return {str(k): walk(v, str(k)) for k, v in value.items() if not _is_secret(str(k))}
        if isinstance(value, list | tuple):
            return [walk(v, key) for v in value]
        if (
            isinstance(value, str | int)
            and _words(key) & ACCOUNT_WORDS
            and _LONG_NUMBER.match(str(value))
        ):
            return mask_account(str(value))
        return value

    return freeze(walk(payload))


def refund_refusal(*, collected: Money | None, refunded: Money | None, amount: Money) -> str | None:
    """Why a simulated bank or gateway refuses to refund ``amount`` of a payment that
    ``collected`` so much (None: nothing collected) and already ``refunded`` so much;
    None when the refund is allowed. The rule every gateway keeps."""
    if collected is None:
        return "payment_not_refundable"
    if amount.currency != collected.currency:
        return "currency_mismatch"
    already = refunded.amount if refunded is not None else 0
    if already + amount.amount > collected.amount:
        return "refund_exceeds_available"
    return None


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not IDEMPOTENCY_KEY.match(key):
        raise ValueError(
            f"idempotency key {key!r} must be 6-32 letters, digits, '_' or '-' "
            "(the strictest gateway's out_trade_no)"
        )


def _check_amount(amount: Money) -> None:
    if not isinstance(amount, Money):
        raise TypeError("amount must be a Money")
    if amount.amount <= 0:
        raise ValueError(f"amount must be positive, got {amount}")
    if quantize(amount).amount != amount.amount:
        raise ValueError(f"amount {amount} is not quantized to its currency's minor unit")


# --- Requests and results ------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CustomerAction:
    """What the customer must do for a PENDING collection (scan, open a link, remit)."""

    kind: ActionKind
    value: str  # the URL, the QR code's content, the remittance reference


@dataclass(frozen=True, kw_only=True)
class CollectionRequest:
    """Take ``amount`` from the customer for one charge attempt."""

    idempotency_key: str
    amount: Money
    reference: str  # our charge reference, shown on the customer's statement
    description: str
    customer_ref: str
    notify_url: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    # The most the customer's mandate allows per debit, for methods that debit under
    # one; Money, so a limit in another currency than the amount is seen as such.
    mandate_limit: Money | None = None

    def __post_init__(self):
        _check_key(self.idempotency_key)
        _check_amount(self.amount)
        if self.mandate_limit is not None and not isinstance(self.mandate_limit, Money):
            raise TypeError("mandate_limit must be a Money (an amount with its currency)")
        object.__setattr__(self, "metadata", freeze({k: str(v) for k, v in self.metadata.items()}))


@dataclass(frozen=True, kw_only=True)
class CollectionResult:
    """The gateway's answer about one collection (from ``collect`` or ``query``).

    ``raw`` is the redacted exchange, for the attempt's record and for support.
    ``amount`` is what the gateway says it collected, when it says so.
    """

    status: AttemptStatus
    provider_reference: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    action: CustomerAction | None = None
    amount: Money | None = None

    def __post_init__(self):
        object.__setattr__(self, "status", AttemptStatus(self.status))
        object.__setattr__(self, "raw", freeze(self.raw))


@dataclass(frozen=True, kw_only=True)
class RefundRequest:
    """Give back ``amount`` of the payment the gateway knows as ``provider_reference``."""

    idempotency_key: str
    amount: Money
    provider_reference: str
    reason: str = ""

    def __post_init__(self):
        _check_key(self.idempotency_key)
        _check_amount(self.amount)


@dataclass(frozen=True, kw_only=True)
class RefundResult:
    """The gateway's answer about a refund; ``provider_reference`` is the refund's own id."""

    status: AttemptStatus
    provider_reference: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    amount: Money | None = None

    def __post_init__(self):
        object.__setattr__(self, "status", AttemptStatus(self.status))
        object.__setattr__(self, "raw", freeze(self.raw))


@dataclass(frozen=True, kw_only=True)
class Notification:
    """A verified inbound notification, and the exact reply the gateway expects.

    The adapter has checked what the gateway's message alone can prove (signature, app
    id, timestamp window, and for gateways that can be asked, the amount they
    recorded). The service still compares ``amount`` with the attempt it finds by
    ``idempotency_key`` (:meth:`verify_amount`): only the database knows what we asked
    for. Repeats are normal: the same notification parses to the same result, and the
    service's uniqueness on the provider reference makes the second one a no-op.
    """

    provider_reference: str
    idempotency_key: str  # our out_trade_no
    status: AttemptStatus
    amount: Money
    raw: Mapping[str, Any] = field(default_factory=dict)
    ack_body: bytes = b"success"
    ack_status: int = 200

    def __post_init__(self):
        object.__setattr__(self, "status", AttemptStatus(self.status))
        object.__setattr__(self, "raw", freeze(self.raw))

    def verify_amount(self, expected: Money) -> None:
        """Raise NotificationRejected("amount_mismatch") unless the amounts are equal."""
        if self.amount.currency != expected.currency or self.amount.amount != expected.amount:
            raise NotificationRejected(
                "amount_mismatch", f"notified {self.amount}, expected {expected}"
            )


# --- The interface -----------------------------------------------------------------


class PaymentAdapter(abc.ABC):
    """One payment method. Instances are shared by every thread of a process
    (the registry caches one per name), so they keep no per-request state.

    ``options`` come from ``settings.PAYMENT_ADAPTERS[name]["options"]``.
    """

    name: ClassVar[str] = ""
    supports_notifications: ClassVar[bool] = False

    def __init__(self, **options: Any):
        self.options: Mapping[str, Any] = MappingProxyType(dict(options))

    @abc.abstractmethod
    def collect(self, request: CollectionRequest) -> CollectionResult:
        """Start (or, with a key the gateway has seen, repeat) a collection.

        Raises GatewayTimeout when the outcome is unknown.
        """

    @abc.abstractmethod
    def query(
        self, idempotency_key: str, provider_reference: str | None = None
    ) -> CollectionResult:
        """What the gateway knows about the collection with this key (DECLINED with
        error_code "not_found" when it has none: no money was taken)."""

    @abc.abstractmethod
    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund part or all of a payment; never more than collected minus refunded."""

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Verify an inbound notification and read it (raise NotificationRejected)."""
        raise NotImplementedError(f"{type(self).__name__} receives no notifications")

    def __repr__(self) -> str:  # never the options: they hold secrets
        return f"<{type(self).__name__} {self.name!r}>"
