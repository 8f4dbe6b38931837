"""Building amendments the way staff and customers do, for the amendment tests."""

from __future__ import annotations

import datetime as dt

from billing.services.amendments import (
    amendment_approve,
    amendment_consent,
    amendment_propose,
    amendment_terms,
)
from billing.services.amendments.decisions import text_digest
from tests.clock import at


def staff(django_user_model, name: str):
    return django_user_model.objects.create_user(name, f"{name}@example.com", "pw", is_staff=True)


def propose(fee, *, amount, effective_from, by, on, reason="CPI adjustment"):
    with at(on):
        return amendment_propose(
            fee=fee, new_amount=amount, effective_from=effective_from, reason=reason, by=by
        )


def shown_digest(amendment) -> str:
    text, _terms = amendment_terms(amendment)
    return text_digest(text)


def consented(fee, *, amount, effective_from, proposer, approver, customer_user, on: dt.date):
    """A change proposed, approved and consented in the portal on ``on``."""
    amendment = propose(fee, amount=amount, effective_from=effective_from, by=proposer, on=on)
    with at(on):
        amendment = amendment_approve(amendment=amendment, by=approver)
        return amendment_consent(
            amendment=amendment,
            customer=fee.contract.customer,
            user=customer_user,
            ip="203.0.113.9",
            user_agent="Mozilla/5.0 (iPhone)",
            digest=shown_digest(amendment),
        )
