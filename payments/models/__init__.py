"""Collection records: payment attempts, refunds, write-off approvals, mandates and
direct-debit batches, and the notifications gateways sent us.

The guarantees live in the database, not in look-ups before writing:

- an attempt's idempotency key is unique and derived from (charge, attempt number),
  so a repeated or crashed task that opens "attempt 2" again gets the same key, and
  the gateway sees the same payment;
- a charge has at most one attempt in progress (a customer may still pay twice, by
  two QR codes say: the second payment is booked to their prepaid balance);
- a gateway's payment id belongs to one attempt per payment method;
- a write-off is approved by someone other than the person who asked for it.
"""

from .attempts import InboundNotification, PaymentAttempt, SentNotice
from .deposits import DepositRelease
from .keys import attempt_key, refund_key
from .mandates import DirectDebitBatch, Mandate
from .refunds import Refund, WriteOffRequest

__all__ = [
    "DepositRelease",
    "DirectDebitBatch",
    "InboundNotification",
    "Mandate",
    "PaymentAttempt",
    "Refund",
    "SentNotice",
    "WriteOffRequest",
    "attempt_key",
    "refund_key",
]
