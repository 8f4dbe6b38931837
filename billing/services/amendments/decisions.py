"""The customer's decision on an amendment: consent or decline in the portal, or
staff recording the signed paper. The decision row keeps what proves it."""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from contracts.models import Customer, Fee
from feemgmt.core.exceptions import BusinessError

from ...choices import AmendmentStatus, ConsentChannel
from ...models import AmendmentDecision, FeeAmendment
from .proposals import (
    amendment_lock,
    check_amendment_transition,
    check_not_billed,
    check_still_ahead,
)

# What a paper consent may be: a scan or a PDF, of a sensible size.
DOCUMENT_TYPES = {".pdf", ".png", ".jpg", ".jpeg"}
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024


def amendment_terms(amendment: FeeAmendment) -> tuple[str, dict]:
    """The consent text the customer is shown (in the active language) and the
    terms it states. Both are stored with a decision, as the proof of what was
    agreed; the portal sends back the text's digest so what is stored is what
    was on the screen."""
    contract = amendment.contract
    fee = amendment.fee
    fee_label = fee.get_cycle_display() if fee.cycle else fee.get_kind_display()
    terms = {
        "customer": contract.customer.name,
        "contract": contract.number,
        "fee": fee_label,
        "currency": amendment.new_amount.currency.code,
        "old_amount": str(amendment.old_amount.amount),
        "new_amount": str(amendment.new_amount.amount),
        "effective_from": amendment.effective_from.isoformat(),
        "reason": amendment.reason,
    }
    text = (
        _(
            "%(customer)s agrees that the %(fee)s fee of contract %(contract)s changes "
            "from %(currency)s %(old_amount)s to %(currency)s %(new_amount)s per period, "
            "for every period starting on or after %(effective_from)s. Periods before "
            "that date keep the current amount. Reason given: %(reason)s"
        )
        % terms
    )
    return text, terms


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _decide(
    amendment: FeeAmendment, *, consented: bool, channel: str, user, **proof
) -> FeeAmendment:
    target = AmendmentStatus.CONSENTED if consented else AmendmentStatus.DECLINED
    check_amendment_transition(amendment.status, target)
    check_still_ahead(amendment, today=timezone.localdate())
    if consented:
        # the order the billing run locks in: the fee row, then its charges
        fee = Fee.objects.select_for_update().get(pk=amendment.fee_id)
        check_not_billed(fee, amendment.effective_from)
    now = timezone.now()
    decision = AmendmentDecision.objects.create(
        amendment=amendment,
        consented=consented,
        channel=channel,
        user=user,
        decided_at=now,
        **proof,
    )
    amendment.status = target
    amendment.decided_at = now
    amendment.save(update_fields=["status", "decided_at", "updated_at"])
    audit_record(
        action="amendment.consented" if consented else "amendment.declined",
        obj=amendment,
        changes={
            "status": [AmendmentStatus.SENT.value, target.value],
            "decision": {
                "id": decision.pk,
                "channel": channel,
                "user": user.get_username(),
                "ip": proof.get("ip"),
                "document_sha256": proof.get("document_sha256", ""),
                "terms": proof.get("terms_shown", {}),
            },
        },
    )
    return amendment


def _portal_decision(
    amendment, *, customer: Customer, user, ip, user_agent, digest, consented, comment=""
):
    amendment = amendment_lock(amendment)
    if amendment.contract.customer_id != customer.pk:
        raise FeeAmendment.DoesNotExist  # another customer's: as if it did not exist
    text, terms = amendment_terms(amendment)
    if digest != text_digest(text):
        raise BusinessError(
            _("The terms of this change are not the ones you were shown: read them again."),
            code="terms_changed",
        )
    return _decide(
        amendment,
        consented=consented,
        channel=ConsentChannel.PORTAL,
        user=user,
        ip=ip or None,
        user_agent=(user_agent or "")[:1000],
        text_shown=text,
        terms_shown=terms,
        comment=(comment or "").strip(),
    )


@transaction.atomic
def amendment_consent(
    *, amendment: FeeAmendment, customer: Customer, user, ip, user_agent, digest: str
) -> FeeAmendment:
    """The customer consents in the portal; from the effective period on, the
    billing run charges the new amount."""
    return _portal_decision(
        amendment,
        customer=customer,
        user=user,
        ip=ip,
        user_agent=user_agent,
        digest=digest,
        consented=True,
    )


@transaction.atomic
def amendment_decline(
    *,
    amendment: FeeAmendment,
    customer: Customer,
    user,
    ip,
    user_agent,
    digest: str,
    comment: str = "",
) -> FeeAmendment:
    """The customer declines in the portal; the current fee stays."""
    return _portal_decision(
        amendment,
        customer=customer,
        user=user,
        ip=ip,
        user_agent=user_agent,
        digest=digest,
        consented=False,
        comment=comment,
    )


def _document_digest(document) -> str:
    name = (getattr(document, "name", "") or "").lower()
    if not any(name.endswith(ext) for ext in DOCUMENT_TYPES):
        raise BusinessError(
            {"document": [_("Attach the signed consent as a PDF, PNG or JPEG file.")]}
        )
    if document.size > DOCUMENT_MAX_BYTES:
        raise BusinessError({"document": [_("The file is larger than 10 MB.")]})
    digest = hashlib.sha256()
    for chunk in document.chunks():
        digest.update(chunk)
    document.seek(0)
    return digest.hexdigest()


@transaction.atomic
def amendment_record_paper(
    *, amendment: FeeAmendment, by, consented: bool, document=None, comment: str = ""
) -> FeeAmendment:
    """Staff record the customer's decision made on paper. A consent needs the
    signed document attached (kept with its SHA-256 and who attached it)."""
    amendment = amendment_lock(amendment)
    proof: dict = {"comment": (comment or "").strip()}
    if document is not None:
        proof["document_sha256"] = _document_digest(document)
        proof["document"] = document
    elif consented:
        raise BusinessError({"document": [_("Attach the consent the customer signed.")]})
    text, terms = amendment_terms(amendment)
    proof.update(text_shown=text, terms_shown=terms)
    return _decide(amendment, consented=consented, channel=ConsentChannel.PAPER, user=by, **proof)
