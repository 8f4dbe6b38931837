"""What the audit app tells the layers above it (it imports none of them)."""

from django.dispatch import Signal

# Sent by the daily verification with ``ok`` (bool) and ``report`` (the text the
# auditors are mailed); the risk rules turn a break into an alert.
chain_verified = Signal()
