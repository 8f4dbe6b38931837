"""Telling the customer about a change waiting for their decision."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from ...choices import AmendmentStatus
from ...models import FeeAmendment
from .decisions import amendment_terms


def amendment_notify(amendment_id: int) -> bool:
    """E-mail the customer once about an approved change (their contact address;
    the portal lists it for every customer user). Claimed with a conditional
    UPDATE so two deliveries of the task send one e-mail; released if sending
    fails so the task's retry can send it."""
    claimed = FeeAmendment.objects.filter(
        pk=amendment_id, status=AmendmentStatus.SENT, notified_at__isnull=True
    ).update(notified_at=timezone.now())
    if not claimed:
        return False
    amendment = FeeAmendment.objects.select_related("contract__customer", "fee").get(
        pk=amendment_id
    )
    try:
        with translation.override(settings.LANGUAGE_CODE):
            _text, terms = amendment_terms(amendment)
            context = {
                "amendment": amendment,
                "terms": terms,
                "deadline": amendment.effective_from - dt.timedelta(days=1),
                "url": f"{settings.SITE_URL.rstrip('/')}/portal/amendments/{amendment.pk}/",
            }
            subject = render_to_string("billing/amendment_email_subject.txt", context)
            body = render_to_string("billing/amendment_email.txt", context)
        send_mail(
            " ".join(subject.split()),
            body,
            settings.DEFAULT_FROM_EMAIL,
            [amendment.contract.customer.email],
        )
    except Exception:
        with transaction.atomic():
            FeeAmendment.objects.filter(pk=amendment_id).update(notified_at=None)
        raise
    return True
