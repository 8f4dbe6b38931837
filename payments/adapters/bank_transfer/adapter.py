"""The bank transfer adapter: a payment notice with a remittance reference.

``collect`` issues the notice (our account, the amount, the reference to quote) and is
PENDING: the money is recognised only when reconciliation matches a bank statement line
to the reference (:func:`~.reference.parse_remittance_reference` finds it in the line's
narrative) and the payments services settle the attempt it names. There is no gateway
to ask and nothing calls us back, so ``query`` stays PENDING and there are no
notifications; a :class:`~.link.BankLink` in ``options["link"]`` can answer instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from feemgmt.core.money import Money, money_str
from payments.adapters.bank_transfer.link import BankLink, LinkConflict
from payments.adapters.bank_transfer.reference import (
    parse_remittance_reference,
    remittance_reference,
)
from payments.adapters.base import (
    ActionKind,
    AdapterError,
    AttemptStatus,
    CollectionRequest,
    CollectionResult,
    CustomerAction,
    Notification,
    NotificationRejected,
    PaymentAdapter,
    RefundRequest,
    RefundResult,
    error_text,
    redact,
)

ERROR_MESSAGES: Mapping[str, Any] = {
    "manual_refund_required": _(
        "A bank transfer is refunded by a manual transfer to the payer's account: "
        "send it from the company account and record it."
    ),
}


def bank_error_text(code: str | None) -> str:
    """:func:`~payments.adapters.base.error_text`, knowing this adapter's codes too."""
    message = ERROR_MESSAGES.get(code or "")
    return str(message) if message is not None else error_text(code)


@dataclass(frozen=True, kw_only=True)
class PaymentNotice(CustomerAction):
    """Pay ``amount`` to this account quoting ``value`` (the remittance reference)."""

    kind: ActionKind = ActionKind.PAYMENT_NOTICE
    amount: Money
    account_name: str
    account_number: str
    bank_name: str

    @property
    def reference(self) -> str:
        return self.value


class BankTransferAdapter(PaymentAdapter):
    """Options: ``account_name``, ``account_number``, ``bank_name`` (the payee account
    printed on every notice, all required) and ``link`` (optional: a dotted path to a
    :class:`~.link.BankLink`; empty means the bank tells us nothing)."""

    name = "bank_transfer"
    supports_notifications = False

    def __init__(self, **options: Any):
        super().__init__(**options)
        missing = [
            key
            for key in ("account_name", "account_number", "bank_name")
            if not str(options.get(key) or "").strip()
        ]
        if missing:
            raise ImproperlyConfigured(
                f"the bank_transfer adapter needs the options {', '.join(missing)}"
            )
        self.account_name = str(options["account_name"]).strip()
        self.account_number = "".join(str(options["account_number"]).split())
        self.bank_name = str(options["bank_name"]).strip()
        link = options.get("link") or None
        self.link: BankLink | None = import_string(link) if isinstance(link, str) else link

    # --- collections ---------------------------------------------------------------

    def collect(self, request: CollectionRequest) -> CollectionResult:
        reference = remittance_reference(request.idempotency_key)
        notice = PaymentNotice(
            value=reference,
            amount=request.amount,
            account_name=self.account_name,
            account_number=self.account_number,
            bank_name=self.bank_name,
        )
        received = None
        if self.link is not None:
            try:
                issued = self.link.issue(
                    reference=reference,
                    idempotency_key=request.idempotency_key,
                    amount=request.amount,
                )
            except LinkConflict as exc:
                raise AdapterError(code="idempotency_conflict", detail=str(exc)) from exc
            received = issued.received
        raw = {
            "operation": "collect",
            "out_trade_no": request.idempotency_key,
            "remittance_reference": reference,
            "amount": money_str(request.amount),
            "currency": request.amount.currency.code,
            "reference": request.reference,
            "customer_ref": request.customer_ref,
            "payee_account_name": self.account_name,
            "payee_account_number": self.account_number,
            "payee_bank_name": self.bank_name,
        }
        return self._result(reference, received, raw, action=notice)

    def query(
        self, idempotency_key: str, provider_reference: str | None = None
    ) -> CollectionResult:
        """PENDING: the bank reports nothing until reconciliation matches a statement
        line to the reference, and that match settles the attempt, not this query.
        With a link, what the link knows (DECLINED "not_found" for a notice never
        issued, SUCCEEDED once a credit was reconciled)."""
        reference = remittance_reference(idempotency_key)
        if provider_reference is not None and provider_reference != reference:
            raise AdapterError(
                detail=f"{idempotency_key} is reference {reference}, not {provider_reference}"
            )
        raw = {
            "operation": "query",
            "out_trade_no": idempotency_key,
            "remittance_reference": reference,
        }
        if self.link is None:
            return self._result(reference, None, raw)
        notice = self.link.notice(reference)
        if notice is None:
            return CollectionResult(
                status=AttemptStatus.DECLINED,
                error_code="not_found",
                error_message=error_text("not_found"),
                raw=redact({**raw, "found": False}),
            )
        return self._result(reference, notice.received, raw)

    def _result(
        self,
        reference: str,
        received: Money | None,
        raw: Mapping[str, Any],
        action: PaymentNotice | None = None,
    ) -> CollectionResult:
        status = AttemptStatus.PENDING if received is None else AttemptStatus.SUCCEEDED
        return CollectionResult(
            status=status,
            provider_reference=reference,
            raw=redact(
                {**raw, "status": status.value, "received": received and money_str(received)}
            ),
            action=action if received is None else None,
            amount=received,
        )

    # --- refunds -------------------------------------------------------------------

    def refund(self, request: RefundRequest) -> RefundResult:
        """DECLINED "manual_refund_required" without a link that can transfer out: a
        person sends the money back from the company account (the result's raw payload
        says how much, for which reference) and the refund is recorded when that
        outbound line is reconciled. DECLINED "unknown_payment" for a reference that is
        not one of ours."""
        reference = parse_remittance_reference(request.provider_reference)
        raw = {
            "operation": "refund",
            "out_request_no": request.idempotency_key,
            "remittance_reference": reference or request.provider_reference,
            "amount": money_str(request.amount),
            "currency": request.amount.currency.code,
            "reason": request.reason,
        }
        if reference is None or reference != request.provider_reference:
            code = "unknown_payment"
        elif self.link is None:
            code = "manual_refund_required"
        else:
            try:
                done = self.link.refund(
                    idempotency_key=request.idempotency_key,
                    reference=reference,
                    amount=request.amount,
                )
            except LinkConflict as exc:
                raise AdapterError(code="idempotency_conflict", detail=str(exc)) from exc
            return RefundResult(
                status=done.status,
                provider_reference=done.refund_no,
                error_code=done.error_code,
                error_message=bank_error_text(done.error_code) or None,
                raw=redact({**raw, "refund_no": done.refund_no, "status": done.status.value}),
                amount=done.amount if done.status == AttemptStatus.SUCCEEDED else None,
            )
        return RefundResult(
            status=AttemptStatus.DECLINED,
            error_code=code,
            error_message=bank_error_text(code),
            raw=redact({**raw, "status": AttemptStatus.DECLINED.value, "error_code": code}),
        )

    # --- notifications -------------------------------------------------------------

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Banks send no notifications: a bank transfer settles through reconciliation."""
        raise NotificationRejected("malformed", "bank_transfer receives no notifications")
