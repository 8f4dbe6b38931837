"""The bank transfer payment method (银行转账): a payment notice with a remittance reference.

``collect`` returns PENDING with a :class:`PaymentNotice` (the payee account from the
adapter's options, the amount, and the reference, a pure function of the attempt's
idempotency key). Nothing settles it here: reconciliation finds the reference in a
bank statement line with :func:`parse_remittance_reference` and settles the attempt
whose :func:`remittance_reference` it is (the attempt's provider reference).
"""

from payments.adapters.bank_transfer.adapter import (
    ERROR_MESSAGES,
    BankTransferAdapter,
    PaymentNotice,
    bank_error_text,
)
from payments.adapters.bank_transfer.link import SIMULATED_BANK, BankLink, SimulatedBank
from payments.adapters.bank_transfer.reference import (
    is_valid_reference,
    parse_remittance_reference,
    remittance_reference,
)

__all__ = [
    "ERROR_MESSAGES",
    "SIMULATED_BANK",
    "BankLink",
    "BankTransferAdapter",
    "PaymentNotice",
    "SimulatedBank",
    "bank_error_text",
    "is_valid_reference",
    "parse_remittance_reference",
    "remittance_reference",
]
