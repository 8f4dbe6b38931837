"""Writes on customers and contracts. Each service is one transaction and raises
BusinessError (nothing written) when a rule refuses the change.

Each change ends by recording its audit event in the same transaction, so the event
commits or rolls back with the change it describes (docs/audit.md). Recording takes
the chain lock until the transaction ends, which is why it is the last step.
"""

from .customers import CUSTOMER_AUDIT_FIELDS, customer_create, customer_update
from .fees import FEE_AUDIT_FIELDS, FeeInput, fee_values, first_due
from .lifecycle import (
    CONTRACT_AUDIT_FIELDS,
    SIGN_FIELDS,
    TERMINATE_FIELDS,
    check_dates,
    check_signing,
    check_termination,
    check_transition,
    contract_create,
    contract_sign,
    contract_terminate,
    contract_update,
)
from .status import ADVANCE_DIGEST_FIELDS, ADVANCE_IDS_PER_QUERY, contracts_advance_status

__all__ = [
    "ADVANCE_DIGEST_FIELDS",
    "ADVANCE_IDS_PER_QUERY",
    "CONTRACT_AUDIT_FIELDS",
    "CUSTOMER_AUDIT_FIELDS",
    "FEE_AUDIT_FIELDS",
    "SIGN_FIELDS",
    "TERMINATE_FIELDS",
    "FeeInput",
    "check_dates",
    "check_signing",
    "check_termination",
    "check_transition",
    "contract_create",
    "contract_sign",
    "contract_terminate",
    "contract_update",
    "contracts_advance_status",
    "customer_create",
    "customer_update",
    "fee_values",
    "first_due",
]
