"""The documents as PDF: a receipt for one paid charge, a statement of account for
a customer and a period. Nothing is written: a document is rendered from the
books each time it is asked for, so it always says what the ledger says."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils.text import slugify
from django.utils.translation import gettext as _

from billing.models import Charge
from contracts.models import Customer
from feemgmt.core.exceptions import BusinessError

from .pdf import render_pdf
from .receipts import receipt_for_charge, receipts_for_charges
from .statements import statement_for_customer

__all__ = ["Document", "receipt_render", "receipts_render", "statement_render"]


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes
    content_type: str = "application/pdf"


def receipt_render(*, charge: Charge) -> Document:
    """The receipt of a paid charge; ``BusinessError`` for any other charge."""
    receipt = receipt_for_charge(charge)
    content = render_pdf("documents/receipt.html", {"receipts": [receipt]})
    return Document(filename=f"{receipt.number}.pdf", content=content)


def receipts_render(*, charges: list[Charge]) -> Document:
    """Several receipts in one PDF, one to a page (staff's admin action); refused
    whole when one of the charges is not paid."""
    receipts = receipts_for_charges(list(charges))
    if not receipts:
        raise BusinessError({"charge": [_("Choose at least one paid charge.")]})
    content = render_pdf("documents/receipt.html", {"receipts": receipts})
    first, last = receipts[0].number, receipts[-1].number
    name = first if first == last else f"{first}-{last}"
    return Document(filename=f"{name}.pdf", content=content)


def statement_check_period(date_from: dt.date, date_to: dt.date) -> None:
    if date_from > date_to:
        raise BusinessError({"date_to": [_("The end of the period is before its start.")]})
    days = settings.DOCUMENTS_STATEMENT_MAX_DAYS
    if (date_to - date_from).days + 1 > days:
        raise BusinessError(
            {"date_to": [_("A statement covers at most %(days)d days.") % {"days": days}]}
        )


def statement_render(*, customer: Customer, date_from: dt.date, date_to: dt.date) -> Document:
    """The customer's statement of account for the period, inclusive."""
    statement_check_period(date_from, date_to)
    statement = statement_for_customer(customer=customer, date_from=date_from, date_to=date_to)
    content = render_pdf("documents/statement.html", {"statement": statement})
    code = slugify(customer.code) or customer.pk
    filename = f"statement-{code}-{date_from.isoformat()}-{date_to.isoformat()}.pdf"
    return Document(filename=filename, content=content)
