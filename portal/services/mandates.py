"""A customer authorises (or revokes) collection by direct debit in the portal.

The mandate row is written by :func:`payments.services.mandates.mandate_save`, and
revoked by ``mandates_revoke``, which record ``mandate.created`` and
``mandate.revoked``. The portal adds the proof of consent: the exact text the user
was shown (in the language it was shown in), who, when, IP address and user agent
(:class:`portal.models.MandateConsent`), and ``mandate.consented`` in the trail.

A mandate belongs to the customer, not to one contract: it covers every contract
the customer pays by ``auto_debit`` (one active mandate per customer, as the
payments app enforces).
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import audit_record
from contracts.models import Customer
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import Money, money_str
from payments.choices import MandateStatus
from payments.models import Mandate
from payments.services.mandates import mandate_save, mandates_revoke

from ..models import MandateConsent

MANDATE_CONSENT_TEXT = gettext_lazy(
    "I authorise %(creditor)s to collect the charges of the contracts of %(customer)s "
    "that are paid by direct debit from the bank account entered on this page, each on "
    "its due date, up to the limit per charge entered on this page (no limit if it is "
    "left empty). I instruct my bank to pay these debits. I can revoke this "
    "authorisation at any time on this page; debits already sent to the bank before "
    "then may still be collected."
)
MANDATE_FIELDS = ("debtor_name", "debtor_iban", "debtor_bic", "limit")


def _creditor() -> str:
    options = settings.PAYMENT_ADAPTERS.get("auto_debit", {}).get("options", {})
    return options.get("creditor_name") or _("the company")


def mandate_consent_text(customer: Customer) -> str:
    """The authorisation text shown to (and recorded for) this customer, in the
    active language."""
    return str(MANDATE_CONSENT_TEXT) % {"creditor": _creditor(), "customer": customer.name}


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _reference(customer: Customer) -> str:
    """A unique mandate reference (up to 35 characters, quoted on every debit)."""
    return f"PM{customer.pk}-{timezone.localdate():%Y%m%d}-{secrets.token_hex(4).upper()}"


def portal_mandate_authorise(
    *,
    customer: Customer,
    user,
    debtor_name: str,
    debtor_iban: str,
    debtor_bic: str = "",
    limit: Money | None = None,
    text_shown: str,
    ip_address: str | None = None,
    user_agent: str = "",
) -> Mandate:
    """Create the customer's active mandate, signed today, with the proof of consent.

    ``text_shown`` must be the text :func:`mandate_consent_text` gives now: a page
    shown before the text changed is refused rather than recorded as agreed."""
    if text_shown != mandate_consent_text(customer):
        raise BusinessError(
            {"consent": [_("The authorisation text has changed: read it again and confirm.")]}
        )
    try:
        with transaction.atomic():
            # One authorisation per customer at a time: the active-mandate check below
            # and the insert are serialised on the customer's row.
            Customer.objects.select_for_update().filter(pk=customer.pk).values_list("pk").get()
            if Mandate.objects.filter(customer=customer, status=MandateStatus.ACTIVE).exists():
                raise BusinessError(
                    {"consent": [_("An active mandate exists already: revoke it first.")]}
                )
            mandate = Mandate(
                customer=customer,
                reference=_reference(customer),
                signed_on=timezone.localdate(),
                debtor_name=debtor_name.strip(),
                debtor_iban=debtor_iban.replace(" ", "").upper(),
                debtor_bic=debtor_bic.strip().upper(),
                limit=limit,
            )
            try:
                mandate.full_clean()
            except ValidationError as exc:
                raise BusinessError(exc.message_dict) from exc
            mandate_save(mandate=mandate)
            consent = MandateConsent.objects.create(
                mandate=mandate,
                user=user,
                consented_at=timezone.now(),
                ip_address=ip_address,
                user_agent=user_agent[:1000],
                text_shown=text_shown,
            )
            audit_record(
                action="mandate.consented",
                obj=mandate,
                changes={
                    "after": {
                        "channel": "portal",
                        "user": user.pk,
                        "consented_at": consent.consented_at,
                        "ip_address": ip_address,
                        "text_sha256": text_digest(text_shown),
                        "limit": money_str(limit) if limit is not None else None,
                        "limit_currency": limit.currency.code if limit is not None else None,
                    }
                },
            )
    except IntegrityError as exc:  # another authorisation won the race
        raise BusinessError(
            {"consent": [_("An active mandate exists already: revoke it first.")]}
        ) from exc
    return mandate


@transaction.atomic
def portal_mandate_revoke(*, customer: Customer, mandate_id: int) -> int:
    """Revoke the customer's mandate ``mandate_id`` (nothing is debited under it from
    now on). Another customer's id, or one already revoked, revokes nothing."""
    revoked = mandates_revoke(Mandate.objects.filter(pk=mandate_id, customer=customer))
    if not revoked:
        raise BusinessError({"mandate": [_("This mandate is not active.")]})
    return revoked
