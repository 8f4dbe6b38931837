"""What payments tells the layers above it (reconciliation and risk import payments,
not the reverse)."""

from django.dispatch import Signal

# Sent inside the transaction that recorded a declined or returned deduction, with
# ``charge_id``. Receivers that act after commit use on_commit.
deduction_failed = Signal()

# Sent inside the transaction that revoked mandates, with ``customer_ids`` (a list).
mandates_revoked = Signal()
