"""Sending a customer notice once: the language, the formatting, the rendering of
the templates, the SentNotice row that makes a second send impossible, and the
delivery after commit (the package docstring states the at-most-once rule)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from billing.models import Charge
from contracts.models import Customer
from feemgmt.core.money import Money, quantize
from feemgmt.core.sql import insert_rows
from payments.adapters.bank_transfer import bank_error_text
from payments.models import PaymentAttempt, SentNotice

logger = logging.getLogger("payments.services.notices")

RECEIPT = "receipt"
FAILURE = "failure"
PAYMENT_REQUEST = "payment_request"
UPCOMING_DEBIT = "upcoming_debit"
MANDATE_EXPIRING = "mandate_expiring"

TEMPLATE_DIR = "payments/email"
DEBIT_METHOD = "auto_debit"
# A mandate running out within this many days is worth a reminder (one per mandate
# and expiry date, so about a month's notice).
MANDATE_EXPIRY_NOTICE_DAYS = 30
URL = re.compile(r"^https?://\S+$", re.IGNORECASE)


# --- Language and formatting ------------------------------------------------------------


def notice_language(customer: Customer) -> str:
    """The language a customer's notices are written in.

    Customers have no language of their own yet, so this is the site's default;
    the one place to change once they do.
    """
    return settings.LANGUAGE_CODE


def format_amount(value: Money) -> str:
    """``CNY 3,000.00``: the currency code, then the amount to its minor unit,
    grouped by thousands (read the same in every language)."""
    value = quantize(value)
    return f"{value.currency.code} {Decimal(value.amount):,}"


def format_date(value: dt.date | dt.datetime) -> str:
    """A date in the active language's own format (2026年4月13日, April 13, 2026)."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return formats.date_format(value, "DATE_FORMAT")


def method_label(method: str) -> str:
    return str(settings.PAYMENT_METHODS.get(method, method))


def payee_details() -> dict[str, str]:
    """The company's bank account for transfers (the bank_transfer adapter's options)."""
    options = settings.PAYMENT_ADAPTERS.get("bank_transfer", {}).get("options", {})
    return {
        "account_name": str(options.get("account_name") or "").strip(),
        "account_number": "".join(str(options.get("account_number") or "").split()),
        "bank_name": str(options.get("bank_name") or "").strip(),
    }


def _company() -> str:
    """Who signs the notices: the holder of the company's bank account."""
    return payee_details()["account_name"]


def _period(charge: Charge) -> str:
    if charge.period_start and charge.period_end:
        return _("%(start)s to %(end)s") % {
            "start": format_date(charge.period_start),
            "end": format_date(charge.period_end),
        }
    return ""


def charge_facts(charge: Charge) -> list[tuple[str, str]]:
    facts = [
        (_("Contract"), charge.contract.number),
        (_("Item"), str(charge.get_kind_display())),
    ]
    period = _period(charge)
    if period:
        facts.append((_("Period"), period))
    return facts


def failure_reason(attempt: PaymentAttempt) -> str:
    """Why a collection failed, in the active language: the gateway error code's
    wording, or a general sentence for a code we have no wording for."""
    code = attempt.error_code
    text = bank_error_text(code) if code else ""
    if not text or text == code:
        return _("The payment could not be collected.")
    return text


def _tidy(text: str) -> str:
    """A plain-text body without trailing spaces or runs of blank lines."""
    lines = "\n".join(line.rstrip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", lines).strip() + "\n"


# --- Sending once -------------------------------------------------------------------------

Build = Callable[[], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Draft:
    """A notice written and ready to record and send."""

    kind: str
    key: str
    customer: Customer
    message: EmailMultiAlternatives


def compose(*, kind: str, key: str, customer: Customer, build: Build) -> Draft | None:
    """Write the notice ``build`` describes in the customer's language; None when the
    customer has no e-mail address. ``build`` returns (subject, template context);
    the templates are ``<kind>.txt`` and ``<kind>.html``."""
    recipient = (customer.email or "").strip()
    if not recipient:
        logger.info("notice %s %s not sent: customer %s has no e-mail", kind, key, customer.code)
        return None
    language = notice_language(customer)
    with translation.override(language):
        subject, context = build()
        subject = " ".join(str(subject).split())  # a header holds one line
        context = {"customer": customer, "company": _company(), "subject": subject, **context}
        text = _tidy(render_to_string(f"{TEMPLATE_DIR}/{kind}.txt", context))
        html = render_to_string(f"{TEMPLATE_DIR}/{kind}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
        headers={"Content-Language": language, "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return Draft(kind, key, customer, message)


def send_once(*, kind: str, key: str, customer: Customer, build: Build) -> bool:
    """Record (kind, key) and send the notice ``build`` writes, unless it was sent.

    True when the notice was sent (or, inside a transaction, will be when it
    commits).
    """
    if SentNotice.objects.filter(kind=kind, key=key).exists():
        return False  # the insert below is the guarantee; this only saves rendering
    draft = compose(kind=kind, key=key, customer=customer, build=build)
    if draft is None:
        return False
    try:
        with transaction.atomic():
            SentNotice.objects.create(
                kind=kind,
                key=key,
                customer=customer,
                recipient=draft.message.to[0],
                subject=draft.message.subject[:200],
            )
    except IntegrityError:
        return False  # sent (or being sent) by another call
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(partial(deliver, draft.message, kind=kind, key=key))
        return True
    return deliver(draft.message, kind=kind, key=key)


def already_sent(kind: str, keys: list[str]) -> set[str]:
    """Which of these notices were sent (recorded) already, in one query."""
    return set(SentNotice.objects.filter(kind=kind, key__any=keys).values_list("key", flat=True))


def send_many(drafts: list[Draft]) -> int:
    """:func:`send_once` for many notices: recorded by one INSERT that skips any
    recorded meanwhile (ON CONFLICT DO NOTHING), then the ones recorded here sent over
    one mail connection once committed. Returns how many were recorded to send."""
    if not drafts:
        return 0
    now = timezone.now()
    with transaction.atomic():
        recorded = set(
            insert_rows(
                SentNotice,
                ("kind", "key", "customer_id", "recipient", "subject", "sent_at"),
                [
                    (d.kind, d.key, d.customer.pk, d.message.to[0], d.message.subject[:200], now)
                    for d in drafts
                ],
                returning=("kind", "key"),
                ignore_conflicts=True,
            )
        )
        mine = [d for d in drafts if (d.kind, d.key) in recorded]
        transaction.on_commit(partial(_deliver_many, mine))
    return len(mine)


def _deliver_many(drafts: list[Draft]) -> None:
    try:
        with get_connection() as connection:
            for draft in drafts:
                draft.message.connection = connection
                deliver(draft.message, kind=draft.kind, key=draft.key)
    except Exception:  # the mail server could not be reached at all
        logger.exception(
            "%s notices were recorded but not sent; delete their SentNotice rows and call "
            "again to resend: %s",
            len(drafts),
            ", ".join(f"{d.kind} {d.key}" for d in drafts),
        )


def deliver(message: EmailMultiAlternatives, *, kind: str, key: str) -> bool:
    """Send a recorded notice. A failure is logged, not retried: at most once."""
    try:
        message.send()
    except Exception:
        logger.exception(
            "notice %s %s to %s was recorded but not sent; delete its SentNotice row "
            "and call again to resend",
            kind,
            key,
            ", ".join(message.to),
        )
        return False
    return True
