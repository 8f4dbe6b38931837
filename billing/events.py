"""What billing tells the layers above it (payments may import billing, not the reverse)."""

from django.dispatch import Signal

# Sent inside the transaction that created the charges, with ``charge_ids`` (a list)
# and ``on`` (the billing date). Receivers that act after commit use on_commit.
charges_billed = Signal()

# Sent inside a termination's transaction for each charge still to collect that it is
# about to cancel (``cancel=True``) or re-price (``cancel=False``), with ``charge``
# (row-locked) and ``on`` (today). A receiver takes off the charge what it attached
# (attempts, prepaid applied) or raises BusinessError to refuse the termination.
charge_cutting = Signal()
