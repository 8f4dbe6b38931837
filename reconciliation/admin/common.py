"""Shared pieces of the reconciliation admin: who may import, status colours, and
how a line's matches are shown."""

from __future__ import annotations

import json

from django.db.models import Prefetch
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext

from ..choices import DiscrepancyStatus, LineStatus, MatchStatus
from ..models import Match

# Importing a statement creates one, so it takes the permission to add them.
IMPORT_PERMISSION = "reconciliation.add_statement"
# Confirming or rejecting a suggestion changes the match.
DECIDE_PERMISSION = "reconciliation.change_match"


def can_import_statements(request) -> bool:
    """Who may open the import page (also hides its sidebar link from others)."""
    user = request.user
    return bool(user.is_active and user.is_staff and user.has_perm(IMPORT_PERMISSION))


LINE_LABELS = {
    LineStatus.UNMATCHED: "danger",
    LineStatus.SUGGESTED: "warning",
    LineStatus.MATCHED: "success",
    LineStatus.IGNORED: "info",
}
MATCH_LABELS = {
    MatchStatus.SUGGESTED: "warning",
    MatchStatus.CONFIRMED: "success",
    MatchStatus.REJECTED: "danger",
}
DISCREPANCY_LABELS = {
    DiscrepancyStatus.OPEN: "danger",
    DiscrepancyStatus.RESOLVED: "success",
    DiscrepancyStatus.WAIVED: "info",
}


def live_matches() -> Prefetch:
    """A line's confirmed match and open suggestions with their charges, fetched
    in one query per page of lines (the charge's name needs its contract)."""
    return Prefetch(
        "matches",
        queryset=Match.objects.exclude(status=MatchStatus.REJECTED)
        .select_related("charge__contract")
        .order_by("-score", "id"),
        to_attr="live_matches",
    )


def confirmed_charge(line):
    """The charge the line's confirmed match pays, from the prefetched matches."""
    for match in line.live_matches:
        if match.status == MatchStatus.CONFIRMED:
            return match.charge
    return None


def suggestions_html(line) -> str:
    """Each open suggestion: the charge, the score and why it was suggested."""
    suggested = [m for m in line.live_matches if m.status == MatchStatus.SUGGESTED]
    if not suggested:
        return "—"
    return format_html_join(
        "",
        '<div class="mb-1"><span class="font-semibold">{}</span> · {} '
        '<span class="text-font-subtle-light dark:text-font-subtle-dark">({})</span></div>',
        (
            (
                match.charge or "—",
                gettext("score %(score)s") % {"score": match.score},
                "; ".join(str(reason) for reason in match.reasons or ()),
            )
            for match in suggested
        ),
    )


def reasons_html(reasons) -> str:
    if not reasons:
        return "—"
    return format_html_join("", "<div>{}</div>", ((str(reason),) for reason in reasons))


def code_block(value) -> str:
    """Stored JSON (an import's result, a line as read), indented for reading."""
    if not value:
        return "—"
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return format_html('<pre class="text-xs whitespace-pre-wrap break-all">{}</pre>', text)
