"""Fee amendments (调整收费标准, docs/amendments.md): proposing, approving, the
customer's decision and lapsing. One service per transition of
``billing.choices.AMENDMENT_TRANSITIONS``; each locks the amendment, checks the
table and records its audit event last."""

from .decisions import (
    amendment_consent,
    amendment_decline,
    amendment_record_paper,
    amendment_terms,
)
from .notify import amendment_notify
from .proposals import (
    AMENDABLE_CONTRACTS,
    AMENDMENT_AUDIT_FIELDS,
    amendment_approve,
    amendment_propose,
    amendment_reject,
    amendment_withdraw,
    amendments_end_with_contract,
    amendments_lapse,
    check_amendment_transition,
)

__all__ = [
    "AMENDABLE_CONTRACTS",
    "AMENDMENT_AUDIT_FIELDS",
    "amendment_approve",
    "amendment_consent",
    "amendment_decline",
    "amendment_notify",
    "amendment_propose",
    "amendment_record_paper",
    "amendment_reject",
    "amendment_terms",
    "amendment_withdraw",
    "amendments_end_with_contract",
    "amendments_lapse",
    "check_amendment_transition",
]
