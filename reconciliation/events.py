"""What reconciliation tells the layers above it (risk imports reconciliation)."""

from django.dispatch import Signal

# Sent inside the transaction of a statement import, once its lines are matched,
# with ``statement_id``.
statement_imported = Signal()

# Sent inside the transaction that prepared a reconciliation run, with ``run_id``.
run_prepared = Signal()
