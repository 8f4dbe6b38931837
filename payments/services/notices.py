"""Customer e-mail notices of the collection side.

Collection sends, after its transaction commits, a receipt for a successful
collection (:func:`receipt`), the reason and the ways to pay after a declined one
(:func:`failure`), and what to do for a payment waiting on the customer: a QR code,
a pay link or a bank transfer notice (:func:`payment_request`). The daily task
(:func:`send_daily_notices`) tells direct-debit customers of a debit a few days
before it is taken (:func:`upcoming_debit`) and asks for a new mandate before the
current one runs out (:func:`mandate_expiring`).

Each notice is sent once: a :class:`~payments.models.SentNotice` row, unique on
(kind, key), is inserted before the mail goes out, and a second call (a repeated
task, a second worker) fails on that uniqueness and sends nothing. The mail is sent
only once the row is committed (at once outside a transaction, from
``transaction.on_commit`` inside one), so a rolled-back caller never sends. This is
*at most once*: if the process dies, or the mail server refuses, between the commit
and the send, that one e-mail is lost, and an error is logged with its kind and key
(delete the SentNotice row and call the function again to resend). Sending first
and recording afterwards would instead risk sending the same notice twice, which
for payment requests and failure notices confuses customers more than a missing
mail that staff can resend.

Notices are written in :func:`notice_language` (today the site's default language
for every customer) with one set of templates under
``payments/templates/payments/email/`` whose strings are all translatable.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from billing.models import Charge
from billing.selectors import fee_next_charge
from contracts.choices import ContractStatus, SigningTreatment
from contracts.models import Customer, Fee
from feemgmt.core.money import Money, quantize
from ledger.choices import AccountPurpose
from ledger.selectors import balances_for_customer
from payments.adapters.bank_transfer import bank_error_text, remittance_reference
from payments.adapters.base import ActionKind, mask_account
from payments.choices import OPEN_ATTEMPT_STATUSES, AttemptStatus, MandateStatus
from payments.models import Mandate, PaymentAttempt, SentNotice

__all__ = [
    "MANDATE_EXPIRY_NOTICE_DAYS",
    "expiring_mandate_ids",
    "failure",
    "mandate_expiring",
    "notice_language",
    "payment_request",
    "receipt",
    "send_daily_notices",
    "upcoming_debit",
    "upcoming_debit_fee_ids",
]

logger = logging.getLogger(__name__)

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
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)


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


def _method_label(method: str) -> str:
    return str(settings.PAYMENT_METHODS.get(method, method))


def _payee() -> dict[str, str]:
    """The company's bank account for transfers (the bank_transfer adapter's options)."""
    options = settings.PAYMENT_ADAPTERS.get("bank_transfer", {}).get("options", {})
    return {
        "account_name": str(options.get("account_name") or "").strip(),
        "account_number": "".join(str(options.get("account_number") or "").split()),
        "bank_name": str(options.get("bank_name") or "").strip(),
    }


def _company() -> str:
    """Who signs the notices: the holder of the company's bank account."""
    return _payee()["account_name"]


def _period(charge: Charge) -> str:
    if charge.period_start and charge.period_end:
        return _("%(start)s to %(end)s") % {
            "start": format_date(charge.period_start),
            "end": format_date(charge.period_end),
        }
    return ""


def _charge_facts(charge: Charge) -> list[tuple[str, str]]:
    facts = [
        (_("Contract"), charge.contract.number),
        (_("Item"), str(charge.get_kind_display())),
    ]
    period = _period(charge)
    if period:
        facts.append((_("Period"), period))
    return facts


def _reason(attempt: PaymentAttempt) -> str:
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


def _send(*, kind: str, key: str, customer: Customer, build: Build) -> bool:
    """Record (kind, key) and send the notice ``build`` writes, unless it was sent.

    ``build`` runs in the customer's language and returns (subject, template
    context); the templates are ``<kind>.txt`` and ``<kind>.html``. True when the
    notice was sent (or, inside a transaction, will be when it commits).
    """
    recipient = (customer.email or "").strip()
    if not recipient:
        logger.info("notice %s %s not sent: customer %s has no e-mail", kind, key, customer.code)
        return False
    if SentNotice.objects.filter(kind=kind, key=key).exists():
        return False  # the insert below is the guarantee; this only saves rendering
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
    try:
        with transaction.atomic():
            SentNotice.objects.create(
                kind=kind,
                key=key,
                customer=customer,
                recipient=recipient,
                subject=subject[:200],
            )
    except IntegrityError:
        return False  # sent (or being sent) by another call
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(partial(_deliver, message, kind=kind, key=key))
        return True
    return _deliver(message, kind=kind, key=key)


def _deliver(message: EmailMultiAlternatives, *, kind: str, key: str) -> bool:
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


# --- Collection notices -------------------------------------------------------------------


def _attempt(attempt_id: int) -> PaymentAttempt:
    return PaymentAttempt.objects.select_related(
        "charge__contract__customer", "charge__fee", "mandate"
    ).get(pk=attempt_id)


def receipt(attempt_id: int) -> bool:
    """The receipt for a successful collection: contract, period, amount, method,
    gateway reference and date."""
    attempt = _attempt(attempt_id)
    if attempt.status != AttemptStatus.SUCCEEDED:
        logger.info("no receipt for %s: it is %s", attempt.idempotency_key, attempt.status)
        return False
    charge = attempt.charge

    def build():
        subject = _("Payment received for contract %(contract)s: %(amount)s") % {
            "contract": charge.contract.number,
            "amount": format_amount(attempt.amount),
        }
        facts = [
            *_charge_facts(charge),
            (_("Amount paid"), format_amount(attempt.amount)),
            (_("Payment method"), _method_label(attempt.method)),
            (_("Payment date"), format_date(attempt.decided_at or timezone.now())),
            (_("Our reference"), attempt.idempotency_key),
        ]
        if attempt.provider_reference:
            facts.append((_("Gateway reference"), attempt.provider_reference))
        return subject, {"contract": charge.contract.number, "facts": facts}

    return _send(
        kind=RECEIPT, key=attempt.idempotency_key, customer=charge.contract.customer, build=build
    )


def failure(attempt_id: int, *, retry_on: dt.date | None = None) -> bool:
    """A declined collection: the reason, when it is retried (or that it is not),
    and how to pay meanwhile (a bank transfer quoting the contract, or a top-up of
    the prepaid balance, which the retry uses first)."""
    attempt = _attempt(attempt_id)
    if attempt.status != AttemptStatus.FAILED:
        logger.info("no failure notice for %s: it is %s", attempt.idempotency_key, attempt.status)
        return False
    charge = attempt.charge
    contract = charge.contract

    def build():
        subject = _("Payment failed for contract %(contract)s: %(amount)s") % {
            "contract": contract.number,
            "amount": format_amount(attempt.amount),
        }
        facts = [
            *_charge_facts(charge),
            (_("Amount due"), format_amount(attempt.amount)),
            (_("Payment method"), _method_label(attempt.method)),
            (_("Reason"), _reason(attempt)),
        ]
        payee = _payee()
        transfer_reference = f"{contract.number}-{charge.pk}"
        transfer = [
            (_("Payee"), payee["account_name"]),
            (_("Bank"), payee["bank_name"]),
            (_("Account number"), payee["account_number"]),
            (_("Amount"), format_amount(attempt.amount)),
            (_("Reference"), transfer_reference),
        ]
        return subject, {
            "contract": contract.number,
            "facts": facts,
            "transfer": transfer,
            "transfer_reference": transfer_reference,
            "retry_on": format_date(retry_on) if retry_on else "",
        }

    return _send(kind=FAILURE, key=attempt.idempotency_key, customer=contract.customer, build=build)


def payment_request(attempt_id: int) -> bool:
    """What the customer does to pay a pending collection: scan a QR code, open a pay
    link, or transfer to our account quoting the remittance reference."""
    attempt = _attempt(attempt_id)
    if attempt.status not in OPEN_ATTEMPT_STATUSES or not attempt.action_value:
        logger.info("no payment request for %s: nothing for the customer to do", attempt)
        return False
    if attempt.action_kind not in {kind.value for kind in ActionKind}:
        logger.warning("no payment request for %s: unknown action %r", attempt, attempt.action_kind)
        return False
    charge = attempt.charge
    contract = charge.contract
    action = ActionKind(attempt.action_kind)

    def build():
        subject = _("Payment request for contract %(contract)s: %(amount)s due %(date)s") % {
            "contract": contract.number,
            "amount": format_amount(attempt.amount),
            "date": format_date(charge.due_date),
        }
        facts = [
            *_charge_facts(charge),
            (_("Amount due"), format_amount(attempt.amount)),
            (_("Due date"), format_date(charge.due_date)),
        ]
        context: dict[str, Any] = {
            "contract": contract.number,
            "action": action.value,
            "method": _method_label(attempt.method),
            "value": attempt.action_value,
            "value_is_link": bool(_URL.match(attempt.action_value)),
        }
        if action == ActionKind.PAYMENT_NOTICE:
            payee = _payee()
            reference = attempt.action_value or remittance_reference(attempt.idempotency_key)
            context["reference"] = reference
            facts += [
                (_("Payee"), payee["account_name"]),
                (_("Bank"), payee["bank_name"]),
                (_("Account number"), payee["account_number"]),
                (_("Remittance reference"), reference),
            ]
        else:
            facts.append((_("Payment method"), _method_label(attempt.method)))
        context["facts"] = facts
        return subject, context

    return _send(
        kind=PAYMENT_REQUEST, key=attempt.idempotency_key, customer=contract.customer, build=build
    )


# --- Direct debit notices -------------------------------------------------------------------


def _debit_mandate(customer: Customer, on: dt.date) -> Mandate | None:
    """The active mandate a debit on ``on`` is taken under (as collection picks it)."""
    return (
        Mandate.objects.filter(customer=customer, status=MandateStatus.ACTIVE)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
        .first()
    )


def _upcoming_debit_amount(fee: Fee) -> Money | None:
    """What collection will debit for the fee's next charge: the charge as billing
    will compute it (a period the service end cuts is prorated), less what the
    customer's prepaid balance holds today, which collection spends first (a fee
    charge only: a prepayment or deposit is not paid from the balance)."""
    spec = fee_next_charge(fee.pk)
    if spec is None:
        return None
    amount = spec.amount
    if (fee.treatment or SigningTreatment.FEE) == SigningTreatment.FEE and amount.amount > 0:
        prepaid = balances_for_customer(
            customer_id=fee.contract.customer_id, currency=amount.currency.code
        )[AccountPurpose.PREPAID]
        spent = min(max(prepaid.amount, Decimal(0)), amount.amount)
        amount = amount - Money(spent, amount.currency)
    return amount


def upcoming_debit(fee_id: int, on: dt.date) -> bool:
    """Tell a customer, before the debit, what will be taken from their account, when,
    and under which mandate (sent once per fee and debit date). The amount is what
    will be debited, not the fee: nothing is sent when nothing will be."""
    fee = Fee.objects.select_related("contract__customer").get(pk=fee_id)
    contract = fee.contract
    debit_on = fee.next_due_date
    if (
        debit_on is None
        or debit_on < on
        or contract.payment_method != DEBIT_METHOD
        or contract.status not in (ContractStatus.SIGNED, ContractStatus.ACTIVE)
    ):
        return False
    customer = contract.customer
    amount = _upcoming_debit_amount(fee)
    if amount is None or amount.amount <= 0:
        # Nothing will be debited: the period is not billed, or the prepaid balance
        # pays it all.
        logger.info("no debit notice for fee %s on %s: nothing to debit", fee_id, debit_on)
        return False
    mandate = _debit_mandate(customer, debit_on)
    if mandate is None:
        # Nothing will be debited: collection blocks the charge and alerts staff.
        logger.warning(
            "no debit notice for fee %s: customer %s has no mandate valid on %s",
            fee_id,
            customer.code,
            debit_on,
        )
        return False

    def build():
        subject = _("Direct debit of %(amount)s on %(date)s for contract %(contract)s") % {
            "amount": format_amount(amount),
            "date": format_date(debit_on),
            "contract": contract.number,
        }
        facts = [(_("Contract"), contract.number), (_("Item"), str(fee.get_kind_display()))]
        if fee.cycle:
            facts.append((_("Billing cycle"), str(fee.get_cycle_display())))
        facts += [
            (_("Amount"), format_amount(amount)),
            (_("Debit date"), format_date(debit_on)),
            (_("Mandate reference"), mandate.reference),
            (_("Account holder"), mandate.debtor_name),
            (_("Debited account"), mask_account(mandate.debtor_iban)),
        ]
        return subject, {
            "contract": contract.number,
            "debit_on": format_date(debit_on),
            "mandate_reference": mandate.reference,
            "facts": facts,
        }

    return _send(
        kind=UPCOMING_DEBIT, key=f"{fee_id}:{debit_on.isoformat()}", customer=customer, build=build
    )


def mandate_expiring(mandate_id: int) -> bool:
    """Ask for a new mandate before this one's ``valid_until`` (once per expiry date)."""
    mandate = Mandate.objects.select_related("customer").get(pk=mandate_id)
    if mandate.status != MandateStatus.ACTIVE or mandate.valid_until is None:
        return False
    valid_until = mandate.valid_until

    def build():
        subject = _("Your direct debit mandate %(reference)s expires on %(date)s") % {
            "reference": mandate.reference,
            "date": format_date(valid_until),
        }
        facts = [
            (_("Mandate reference"), mandate.reference),
            (_("Account holder"), mandate.debtor_name),
            (_("Debited account"), mask_account(mandate.debtor_iban)),
            (_("Valid until"), format_date(valid_until)),
        ]
        return subject, {
            "valid_until": format_date(valid_until),
            "mandate_reference": mandate.reference,
            "facts": facts,
        }

    return _send(
        kind=MANDATE_EXPIRING,
        key=f"{mandate_id}:{valid_until.isoformat()}",
        customer=mandate.customer,
        build=build,
    )


# --- The daily run ------------------------------------------------------------------------


def upcoming_debit_fee_ids(on: dt.date) -> list[int]:
    """Fees of signed or active direct-debit contracts debited
    ``AUTO_DEBIT_PRENOTIFY_DAYS`` after ``on``."""
    debit_on = on + dt.timedelta(days=settings.AUTO_DEBIT_PRENOTIFY_DAYS)
    return list(
        Fee.objects.filter(
            next_due_date=debit_on,
            contract__payment_method=DEBIT_METHOD,
            contract__status__in=[ContractStatus.SIGNED, ContractStatus.ACTIVE],
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def expiring_mandate_ids(on: dt.date) -> list[int]:
    """Active mandates whose last valid day is between ``on`` and
    ``MANDATE_EXPIRY_NOTICE_DAYS`` later (both included)."""
    return list(
        Mandate.objects.filter(
            status=MandateStatus.ACTIVE,
            valid_until__gte=on,
            valid_until__lte=on + dt.timedelta(days=MANDATE_EXPIRY_NOTICE_DAYS),
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def _sent(notice: Callable[..., bool], *args: Any) -> bool:
    """One notice of the daily run; an error is logged and the run goes on."""
    try:
        return notice(*args)
    except Exception:
        logger.exception("notice %s%r failed", notice.__name__, args)
        return False


def send_daily_notices(on: dt.date | None = None) -> dict[str, int]:
    """Send the day's direct debit pre-notifications and mandate reminders (each once,
    however often this runs); returns how many of each were sent."""
    on = on or timezone.localdate()
    return {
        UPCOMING_DEBIT: sum(
            _sent(upcoming_debit, fee_id, on) for fee_id in upcoming_debit_fee_ids(on)
        ),
        MANDATE_EXPIRING: sum(
            _sent(mandate_expiring, mandate_id) for mandate_id in expiring_mandate_ids(on)
        ),
    }
