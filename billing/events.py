"""What billing tells the layers above it (payments may import billing, not the reverse)."""

from django.dispatch import Signal

# Sent inside the transaction that created the charges, with ``charge_ids`` (a list)
# and ``on`` (the billing date). Receivers that act after commit use on_commit.
charges_billed = Signal()
