"""The auto_debit payment method (自动扣款): a SEPA Core direct debit under the customer's
mandate.

``collect`` checks the mandate and answers PENDING; the debit goes into the next
pain.008 file (:func:`build_pain008`) and settles from the bank's pain.002 status report
(:func:`read_pain002`) and camt.054 notification (:func:`read_camt054`), matched by the
end-to-end id, which is the attempt's idempotency key.
"""

from payments.adapters.auto_debit.adapter import (
    ERROR_MESSAGES,
    MANDATE_KEYS,
    AutoDebitAdapter,
    MandateError,
    auto_debit_error_text,
    debit_from_metadata,
    mandate_from_metadata,
)
from payments.adapters.auto_debit.iso20022 import (
    PAIN008_VERSION,
    REASON_TEXTS,
    SEPA_CURRENCY,
    Creditor,
    Debit,
    DebitEntry,
    DebitStatus,
    Iso20022Error,
    Mandate,
    Pain008,
    Pain008Batch,
    Pain008Error,
    SequenceType,
    build_pain008,
    read_camt054,
    read_pain002,
    read_pain008,
    reason_text,
    resolve_statuses,
)
from payments.adapters.auto_debit.link import DebitLink, LinkDebit, LinkRefund, SimulatedDebitBank

__all__ = [
    "ERROR_MESSAGES",
    "MANDATE_KEYS",
    "PAIN008_VERSION",
    "REASON_TEXTS",
    "SEPA_CURRENCY",
    "AutoDebitAdapter",
    "Creditor",
    "Debit",
    "DebitEntry",
    "DebitLink",
    "DebitStatus",
    "Iso20022Error",
    "LinkDebit",
    "LinkRefund",
    "Mandate",
    "MandateError",
    "Pain008",
    "Pain008Batch",
    "Pain008Error",
    "SequenceType",
    "SimulatedDebitBank",
    "auto_debit_error_text",
    "build_pain008",
    "debit_from_metadata",
    "mandate_from_metadata",
    "read_camt054",
    "read_pain002",
    "read_pain008",
    "reason_text",
    "resolve_statuses",
]
