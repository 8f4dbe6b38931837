"""Admin for the collection side: payment attempts, refunds, write-off approvals,
deposit releases, mandates, direct-debit batches and the gateway/customer message
logs; and the collection additions to the charge and customer admins.

Collection records are written by payments.services only: here they are read-only,
and every change is an action that calls a service. When a service refuses
(BusinessError), its message is shown and nothing is written. Mandates are the
exception: staff type them in from the signed form, so they have a full form.
"""

from . import attempts, charges, deposits, logs, mandates, refunds  # noqa: F401  (registers)
from .common import ReadOnlyAdmin, apply_each, pretty_json, service_error_text, text_action

__all__ = ["ReadOnlyAdmin", "apply_each", "pretty_json", "service_error_text", "text_action"]
