"""A clerk's decisions on matches: confirming or rejecting a suggestion, or placing an
unmatched line on a charge."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from feemgmt.core.exceptions import BusinessError
from payments.models import PaymentAttempt
from payments.services.bank_transfer import bank_transfer_receive

from ...choices import (
    DiscrepancyKind,
    LineStatus,
    MatchMethod,
    MatchStatus,
)
from ...models import Match, StatementLine
from ..discrepancies import discrepancies_close_for_line, discrepancy_open
from .exact import (
    RECEIPT_EFFECT,
    LineContext,
    line_reference,
    move_to_cash,
    receipt_discrepancy,
    unmatched_message,
)

# --- A clerk decides -------------------------------------------------------------------


def match_confirm(*, match: Match, by) -> Match:
    """Confirm a suggestion: the line pays that notice, as if it had quoted it."""
    with transaction.atomic():
        match = (
            Match.objects.select_for_update(of=("self",)).select_related("attempt").get(pk=match.pk)
        )
        if match.status != MatchStatus.SUGGESTED:
            raise BusinessError({"match": [_("Only a suggested match can be confirmed.")]})
        line = (
            StatementLine.objects.select_for_update(of=("self",))
            .select_related("account")
            .get(pk=match.line_id)
        )
        if line.status == LineStatus.MATCHED:
            raise BusinessError({"match": [_("This line is already matched.")]})
        receipt = bank_transfer_receive(
            reference=match.attempt.provider_reference,
            amount=line.amount,
            booked_on=line.booked_on,
            line_reference=line_reference(line),
        )
        match.status = MatchStatus.CONFIRMED
        match.effect = RECEIPT_EFFECT[receipt.effect]
        match.decided_by = by
        match.decided_at = timezone.now()
        match.save(update_fields=["status", "effect", "decided_by", "decided_at", "updated_at"])
        Match.objects.filter(line=line, status=MatchStatus.SUGGESTED).exclude(pk=match.pk).update(
            status=MatchStatus.REJECTED, decided_by=by, decided_at=timezone.now()
        )
        line.status = LineStatus.MATCHED
        line.save(update_fields=["status"])
        move_to_cash(LineContext(account=line.account, payers={}), line, match.attempt.method)
        receipt_discrepancy(line, receipt, match.attempt.idempotency_key)
        discrepancies_close_for_line(line=line, kind=DiscrepancyKind.UNMATCHED_LINE, by=by)
        audit_record(
            action="match.confirmed",
            obj=match,
            changes={
                "status": [MatchStatus.SUGGESTED, MatchStatus.CONFIRMED],
                "effect": ["", match.effect],
                "line": [None, line.pk],
                "charge": [None, match.charge_id],
            },
        )
        return match


def record_manual_match(*, line: StatementLine, attempt: PaymentAttempt, receipt, by) -> Match:
    """A person placed a line on a charge (a discrepancy assigned): record it as a
    confirmed match and move the money to the account's cash, as the exact pass does."""
    Match.objects.filter(line=line, status=MatchStatus.SUGGESTED).update(
        status=MatchStatus.REJECTED, decided_by=by, decided_at=timezone.now()
    )
    match = Match.objects.create(
        line=line,
        charge_id=attempt.charge_id,
        attempt=attempt,
        method=MatchMethod.MANUAL,
        status=MatchStatus.CONFIRMED,
        effect=RECEIPT_EFFECT[receipt.effect],
        score=100,
        decided_by=by,
        decided_at=timezone.now(),
    )
    line.status = LineStatus.MATCHED
    line.save(update_fields=["status"])
    move_to_cash(LineContext(account=line.account, payers={}), line, attempt.method)
    receipt_discrepancy(line, receipt, attempt.idempotency_key)
    audit_record(
        action="match.assigned",
        obj=match,
        changes={"after": {"line": line.pk, "charge": attempt.charge_id, "effect": match.effect}},
    )
    return match


def match_reject(*, match: Match, by) -> Match:
    """Reject a suggestion; a line left with none is an unmatched-line discrepancy."""
    with transaction.atomic():
        match = Match.objects.select_for_update().get(pk=match.pk)
        if match.status != MatchStatus.SUGGESTED:
            raise BusinessError({"match": [_("Only a suggested match can be rejected.")]})
        match.status = MatchStatus.REJECTED
        match.decided_by = by
        match.decided_at = timezone.now()
        match.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
        line = StatementLine.objects.select_for_update().get(pk=match.line_id)
        audit_record(
            action="match.rejected",
            obj=match,
            changes={"status": [MatchStatus.SUGGESTED, MatchStatus.REJECTED]},
        )
        if not line.matches.filter(status=MatchStatus.SUGGESTED).exists():
            line.status = LineStatus.UNMATCHED
            line.save(update_fields=["status"])
            discrepancy_open(
                kind=DiscrepancyKind.UNMATCHED_LINE,
                account_id=line.account_id,
                line=line,
                amount=line.amount,
                message=unmatched_message(line),
            )
        return match
