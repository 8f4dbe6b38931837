"""The auto_debit adapter: a SEPA Core direct debit under the customer's mandate.

``collect`` checks the mandate the request carries in its metadata (``mandate_reference``,
``mandate_signed_on`` as an ISO date, ``debtor_name``, ``debtor_iban``, optional
``debtor_bic``, ``sequence_type`` (FRST/RCUR/OOFF/FNAL, default RCUR)) and the
mandate's limit: the request's ``mandate_limit`` (Money; one in another currency than
the amount makes the mandate invalid for the debit), or else a ``mandate_limit``
metadata decimal string, read in the amount's currency. A missing or invalid mandate,
or an amount above its limit, is DECLINED (``mandate_missing``, ``mandate_invalid``,
``mandate_limit_exceeded``) and nothing is queued. Otherwise the answer is PENDING with
the idempotency key as provider reference: that key is the debit's end-to-end id in the
next pain.008 file, which the payments services build with
:func:`~.iso20022.build_pain008` (which attempts, which file, which collection date is
theirs). The outcome comes back in the bank's pain.002 and camt.054, read with
:func:`~.iso20022.read_pain002` and :func:`~.iso20022.read_camt054`, matched by that id.

Currency: SEPA direct debits are collected in euros only. Without a link, a charge in
any other currency is DECLINED ``currency_not_supported`` at ``collect``, before it is
queued, so such a charge must be collected by another method. A :class:`~.link.DebitLink`
(``options["link"]``) is a bank's own debit interface and says itself which currencies
it takes (the simulated one used by the tests takes any, unless told otherwise).

There is no gateway to ask and nothing calls us back: ``query`` stays PENDING and a
refund is a credit transfer a person makes (DECLINED ``manual_refund_required``); with a
link, both are the link's answer. A debtor's own refund claim (up to eight weeks) comes
back as a camt.054 return, not through :meth:`refund`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from stdnum import bic as stdnum_bic
from stdnum.eu import at_02

from feemgmt.core.money import Money, money, money_str
from payments.adapters.auto_debit.iso20022 import (
    SEPA_CURRENCY,
    Creditor,
    Debit,
    Mandate,
    SequenceType,
    check_iban,
    sepa_identifier_problem,
    sepa_text,
)
from payments.adapters.auto_debit.link import DebitLink, LinkConflict, LinkDebit
from payments.adapters.base import (
    IDEMPOTENCY_KEY,
    AdapterError,
    AttemptStatus,
    CollectionRequest,
    CollectionResult,
    Notification,
    NotificationRejected,
    PaymentAdapter,
    RefundRequest,
    RefundResult,
    error_text,
    mask_account,
    redact,
)

__all__ = [
    "ERROR_MESSAGES",
    "MANDATE_KEYS",
    "AutoDebitAdapter",
    "MandateError",
    "auto_debit_error_text",
    "debit_from_metadata",
    "mandate_from_metadata",
]

ERROR_MESSAGES: Mapping[str, Any] = {
    "mandate_missing": _(
        "The customer has no direct debit mandate on record: record the signed mandate "
        "(reference, date of signature, debtor name and IBAN) first."
    ),
    "mandate_invalid": _(
        "The customer's direct debit mandate is invalid: check its reference, date of "
        "signature, debtor name, IBAN, BIC, sequence type and limit."
    ),
    "mandate_limit_exceeded": _(
        "The amount is above the limit the customer set in the direct debit mandate."
    ),
    "currency_not_supported": _(
        "SEPA direct debits are collected in euros only: collect this charge by another "
        "payment method."
    ),
    "manual_refund_required": _(
        "A direct debit is refunded by a credit transfer to the debtor's account: send it "
        "from the company account and record it."
    ),
    "debit_rejected": _("The debtor's bank rejected the direct debit."),
}


def auto_debit_error_text(code: str | None) -> str:
    """:func:`~payments.adapters.base.error_text`, knowing this adapter's codes too."""
    message = ERROR_MESSAGES.get(code or "")
    return str(message) if message is not None else error_text(code)


# --- Mandates ---------------------------------------------------------------------

MANDATE_KEYS = ("mandate_reference", "mandate_signed_on", "debtor_name", "debtor_iban")


class MandateError(ValueError):
    """The request's mandate cannot be used: ``code`` is an :data:`ERROR_MESSAGES` key,
    ``detail`` says which field and why (never the IBAN itself)."""

    def __init__(self, code: str, detail: str):
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}")


def mandate_from_metadata(metadata: Mapping[str, str], *, today: dt.date | None = None) -> Mandate:
    """The :class:`~.iso20022.Mandate` a request's metadata describes (MandateError)."""
    values = {key: str(metadata.get(key) or "").strip() for key in MANDATE_KEYS}
    missing = [key for key, value in values.items() if not value]
    if missing:
        raise MandateError("mandate_missing", f"missing {', '.join(missing)}")
    problems = []
    reference = values["mandate_reference"]
    problem = sepa_identifier_problem(reference)
    if problem:
        problems.append(f"mandate_reference: {problem}")
    signed_on = None
    try:
        signed_on = dt.date.fromisoformat(values["mandate_signed_on"])
    except ValueError:
        problems.append("mandate_signed_on: not an ISO date (YYYY-MM-DD)")
    else:
        if signed_on > (today or timezone.localdate()):
            problems.append("mandate_signed_on: in the future")
    if not sepa_text(values["debtor_name"], 70):
        problems.append("debtor_name: nothing left in the SEPA character set")
    iban = ""
    try:
        iban = check_iban(values["debtor_iban"])
    except ValueError as exc:
        problems.append(f"debtor_iban: {exc}")
    bic = str(metadata.get("debtor_bic") or "").strip() or None
    if bic is not None and not stdnum_bic.is_valid(bic):
        problems.append("debtor_bic: not a valid BIC")
    sequence = str(metadata.get("sequence_type") or SequenceType.RECURRING).strip().upper()
    if sequence not in {s.value for s in SequenceType}:
        problems.append("sequence_type: not FRST, RCUR, OOFF or FNAL")
    if problems:
        raise MandateError("mandate_invalid", "; ".join(problems))
    return Mandate(
        reference=reference,
        signed_on=signed_on,
        debtor_name=values["debtor_name"],
        debtor_iban=iban,
        debtor_bic=bic.upper() if bic else None,
        sequence_type=SequenceType(sequence),
    )


def _mandate_limit(request: CollectionRequest) -> Money | None:
    """The request's limit (Money), else the ``mandate_limit`` metadata, a decimal in
    the amount's currency. A limit in another currency cannot be compared with the
    amount: the mandate is invalid for this debit."""
    currency = request.amount.currency.code
    limit = request.mandate_limit
    if limit is not None:
        if limit.currency.code != currency:
            raise MandateError(
                "mandate_invalid",
                f"mandate_limit: in {limit.currency.code}, the debit is in {currency}",
            )
        if limit.amount <= 0:
            raise MandateError("mandate_invalid", "mandate_limit: not a positive amount")
        return limit
    text = str(request.metadata.get("mandate_limit") or "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value <= 0:
        raise MandateError("mandate_invalid", "mandate_limit: not a positive decimal amount")
    return money(value, currency)


def debit_from_metadata(
    end_to_end_id: str,
    amount: Money,
    metadata: Mapping[str, str],
    *,
    collection_date: dt.date,
    remittance: str,
) -> Debit:
    """The :class:`~.iso20022.Debit` for an attempt, to put into a pain.008 batch."""
    return Debit(
        end_to_end_id=end_to_end_id,
        amount=amount,
        collection_date=collection_date,
        remittance=remittance,
        mandate=mandate_from_metadata(metadata, today=collection_date),
    )


# --- The adapter ----------------------------------------------------------------------


class AutoDebitAdapter(PaymentAdapter):
    """Options: ``creditor_name``, ``creditor_iban``, ``creditor_id`` (the SEPA creditor
    identifier), all required; ``creditor_bic`` (optional with pain.008.001.08); and
    ``link`` (optional: a dotted path to a :class:`~.link.DebitLink`, or one; empty
    means the bank tells us nothing until its files arrive)."""

    name = "auto_debit"
    supports_notifications = False

    def __init__(self, **options: Any):
        super().__init__(**options)
        missing = [
            key
            for key in ("creditor_name", "creditor_iban", "creditor_id")
            if not str(options.get(key) or "").strip()
        ]
        if missing:
            raise ImproperlyConfigured(
                f"the auto_debit adapter needs the options {', '.join(missing)}"
            )
        try:
            iban = check_iban(str(options["creditor_iban"]))
        except ValueError as exc:
            raise ImproperlyConfigured(f"auto_debit: creditor_iban is not valid ({exc})") from exc
        if not at_02.is_valid(str(options["creditor_id"])):
            raise ImproperlyConfigured("auto_debit: creditor_id is not a SEPA creditor identifier")
        bic = str(options.get("creditor_bic") or "").strip() or None
        if bic is not None and not stdnum_bic.is_valid(bic):
            raise ImproperlyConfigured("auto_debit: creditor_bic is not a valid BIC")
        self.creditor = Creditor(
            name=str(options["creditor_name"]).strip(),
            iban=iban,
            bic=bic,
            creditor_id=at_02.compact(str(options["creditor_id"])),
        )
        link = options.get("link") or None
        self.link: DebitLink | None = import_string(link) if isinstance(link, str) else link

    # --- collections ---------------------------------------------------------------

    def collect(self, request: CollectionRequest) -> CollectionResult:
        key = request.idempotency_key
        raw: dict[str, Any] = {
            "operation": "collect",
            "end_to_end_id": key,
            "amount": money_str(request.amount),
            "currency": request.amount.currency.code,
            "reference": request.reference,
            "customer_ref": request.customer_ref,
        }
        try:
            mandate = mandate_from_metadata(request.metadata)
            limit = _mandate_limit(request)
        except MandateError as exc:
            return self._declined(exc.code, {**raw, "problem": exc.detail})
        raw.update(
            mandate_reference=mandate.reference,
            sequence_type=mandate.sequence_type.value,
            debtor_iban=mask_account(mandate.debtor_iban),
        )
        if limit is not None and request.amount.amount > limit.amount:
            return self._declined(
                "mandate_limit_exceeded", {**raw, "mandate_limit": money_str(limit)}
            )
        if self.link is None:
            if request.amount.currency.code != SEPA_CURRENCY:
                return self._declined("currency_not_supported", raw)
            problem = sepa_identifier_problem(key)
            if problem:
                raise AdapterError(detail=f"{key} cannot be a SEPA end-to-end id: {problem}")
            return self._result(key, AttemptStatus.PENDING, {**raw, "queued": "pain.008"})
        try:
            record = self.link.debit(idempotency_key=key, amount=request.amount, mandate=mandate)
        except LinkConflict as exc:
            raise AdapterError(code="idempotency_conflict", detail=str(exc)) from exc
        return self._from_link(record, raw)

    def query(
        self, idempotency_key: str, provider_reference: str | None = None
    ) -> CollectionResult:
        """PENDING: the bank says nothing until its status report or notification
        arrives, and reading those settles the attempt, not this query. With a link,
        what the link knows (DECLINED "not_found" for a debit it never received)."""
        if provider_reference is not None and provider_reference != idempotency_key:
            raise AdapterError(
                detail=f"{idempotency_key} is end-to-end id {idempotency_key}, "
                f"not {provider_reference}"
            )
        raw = {"operation": "query", "end_to_end_id": idempotency_key}
        if self.link is None:
            return self._result(idempotency_key, AttemptStatus.PENDING, raw)
        record = self.link.lookup(idempotency_key)
        if record is None:
            return self._declined("not_found", {**raw, "found": False})
        return self._from_link(record, raw)

    def _from_link(self, record: LinkDebit, raw: Mapping[str, Any]) -> CollectionResult:
        if record.status == AttemptStatus.DECLINED:
            code = record.error_code or "debit_rejected"
            return self._declined(code, raw, provider_reference=record.idempotency_key)
        return self._result(
            record.idempotency_key,
            record.status,
            {**raw, "collected": record.collected and money_str(record.collected)},
            amount=record.collected if record.status == AttemptStatus.SUCCEEDED else None,
        )

    def _result(
        self,
        key: str,
        status: AttemptStatus,
        raw: Mapping[str, Any],
        amount: Money | None = None,
    ) -> CollectionResult:
        return CollectionResult(
            status=status,
            provider_reference=key,
            raw=redact({**raw, "status": status.value}),
            amount=amount,
        )

    def _declined(
        self, code: str, raw: Mapping[str, Any], provider_reference: str | None = None
    ) -> CollectionResult:
        return CollectionResult(
            status=AttemptStatus.DECLINED,
            provider_reference=provider_reference,
            error_code=code,
            error_message=auto_debit_error_text(code),
            raw=redact({**raw, "status": AttemptStatus.DECLINED.value, "error_code": code}),
        )

    # --- refunds -------------------------------------------------------------------

    def refund(self, request: RefundRequest) -> RefundResult:
        """DECLINED "manual_refund_required" without a link: a creditor gives a direct
        debit back by a credit transfer to the debtor, made by a person from the company
        account (the raw payload says how much, for which end-to-end id) and recorded
        when that outbound line is reconciled. DECLINED "unknown_payment" for a
        reference that cannot be one of our end-to-end ids. With a link, its answer,
        never more than collected minus refunded."""
        reference = request.provider_reference
        raw = {
            "operation": "refund",
            "out_request_no": request.idempotency_key,
            "end_to_end_id": reference,
            "amount": money_str(request.amount),
            "currency": request.amount.currency.code,
            "reason": request.reason,
        }
        if not isinstance(reference, str) or not IDEMPOTENCY_KEY.match(reference):
            code = "unknown_payment"
        elif self.link is None:
            code = "manual_refund_required"
        else:
            try:
                done = self.link.refund(
                    idempotency_key=request.idempotency_key,
                    end_to_end_id=reference,
                    amount=request.amount,
                )
            except LinkConflict as exc:
                raise AdapterError(code="idempotency_conflict", detail=str(exc)) from exc
            return RefundResult(
                status=done.status,
                provider_reference=done.refund_no,
                error_code=done.error_code,
                error_message=auto_debit_error_text(done.error_code) or None,
                raw=redact({**raw, "refund_no": done.refund_no, "status": done.status.value}),
                amount=done.amount if done.status == AttemptStatus.SUCCEEDED else None,
            )
        return RefundResult(
            status=AttemptStatus.DECLINED,
            error_code=code,
            error_message=auto_debit_error_text(code),
            raw=redact({**raw, "status": AttemptStatus.DECLINED.value, "error_code": code}),
        )

    # --- notifications -------------------------------------------------------------

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Banks send files, not notifications: see :func:`~.iso20022.read_camt054`."""
        raise NotificationRejected("malformed", "auto_debit receives no notifications")
