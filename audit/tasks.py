"""The daily verification (beat), and how the chain's head leaves the database.

Whoever can disable the triggers can rewrite the chain from some event on and
recompute every hash after it. The head logged and mailed here each day is kept
outside the database; ``audit_verify --expect-head SEQ:HASH`` proves the chain
still contains it.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.utils.translation import gettext as _

from feemgmt.core.roles import AUDITOR

from .context import actor_scope
from .events import chain_verified
from .verification import VerifyResult, audit_chain_verify

logger = logging.getLogger(__name__)

AUDITORS_GROUP = AUDITOR


def report_recipients() -> list[str]:
    """settings.AUDIT_REPORT_EMAILS if set, else the active auditors' addresses."""
    configured = getattr(settings, "AUDIT_REPORT_EMAILS", None)
    if configured:
        return list(configured)
    users = (
        get_user_model()
        ._default_manager.filter(groups__name=AUDITORS_GROUP, is_active=True)
        .exclude(email="")
    )
    return sorted(set(users.values_list("email", flat=True)))


def _report(result: VerifyResult) -> str:
    lines = [result.summary()]
    lines += [str(problem) for problem in result.problems]
    lines.append(
        _("Head: event %(sequence)d, hash %(hash)s (%(count)d events).")
        % {"sequence": result.head_sequence, "hash": result.head_hash, "count": result.count}
    )
    return "\n".join(lines)


@shared_task(name="audit.verify")
def audit_verify_task() -> bool:
    """Daily (beat): verify the chain, anchor its head, say what was found."""
    with actor_scope("system:audit_verify"):
        result = audit_chain_verify()
    logger.info(
        "audit chain head %d %s (%d events, %s)",
        result.head_sequence,
        result.head_hash,
        result.count,
        "intact" if result.ok else "BROKEN",
    )
    if not result.ok:
        logger.critical("%s", _report(result))
    # a break becomes a critical alert (risk/rules/audit.py); an intact chain resolves it
    chain_verified.send(sender=audit_verify_task, ok=result.ok, report=_report(result))
    recipients = report_recipients()
    if recipients:
        if result.ok:
            subject = _("Audit chain intact: head %d") % result.head_sequence
        elif result.first_broken is not None:
            subject = _("Audit chain BROKEN at event %d") % result.first_broken
        else:
            subject = _("Audit checks failed")
        send_mail(subject, _report(result), None, recipients)
    return result.ok
