"""What the audit app tells the layers above it (it imports none of them)."""

from django.dispatch import Signal

# Sent by the daily verification with ``ok`` (bool) and ``report`` (the text the
# auditors are mailed); the risk rules turn a break into an alert.
chain_verified = Signal()

# Sent by ``audit.services._append`` with ``event`` (the AuditEvent just saved),
# inside the transaction that makes the change, while the chain lock is held: a
# receiver's writes commit or roll back with the change (the webhooks' outbox).
recorded = Signal()
