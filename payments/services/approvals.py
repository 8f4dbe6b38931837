"""Deciding what one user asked and another approves (write-offs, deposit releases):
the checks every decision makes and how it is recorded."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from audit.services import audit_record, changes_between, snapshot
from feemgmt.core.exceptions import BusinessError, InvalidTransition
from payments.choices import APPROVAL_TRANSITIONS
from payments.models.approvals import Approval

# What deciding changes (and records before/after of).
DECISION_FIELDS = ("status", "decided_by", "decided_at", "decision_note")


def decision_check(
    request: Approval,
    *,
    user: AbstractBaseUser,
    target: str,
    permission: str,
    already: str,
    same_user: str,
    forbidden: str,
) -> None:
    """Refuse a decision the transitions table, the four-eyes rule or the user's
    permissions do not allow (the caller holds the request's row lock). The texts
    name the kind of request; ``already`` takes ``%(status)s``."""
    if target not in APPROVAL_TRANSITIONS[request.status]:
        raise InvalidTransition(already % {"status": request.get_status_display().lower()})
    if user.pk == request.requested_by_id:
        raise BusinessError({"decided_by": [same_user]}, code="same_user")
    if not user.has_perm(permission):
        raise BusinessError({"decided_by": [forbidden]}, code="forbidden")


def decision_record(
    request: Approval, *, action: str, status: str, user: AbstractBaseUser, note: str
) -> Approval:
    before = snapshot(request, DECISION_FIELDS)
    request.status = status
    request.decided_by, request.decided_at, request.decision_note = user, timezone.now(), note
    request.save()
    audit_record(
        action=action,
        obj=request,
        changes=changes_between(before, snapshot(request, DECISION_FIELDS)),
    )
    return request
