"""The ledger's invariant for the audit verification (``manage.py audit_verify``).

journal_post only writes entries whose lines sum to zero, so an entry that does not
means its lines were written or changed around the service (raw SQL, a restore gone
wrong). The audit chain cannot see that on its own: it records who posted, not the
lines' state ever after, so the check reads the lines as they are now.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .models import JournalEntry
from .selectors import unbalanced_entries

CHECK_NAME = "journal entries balance"


def journal_entries_balance() -> list[str]:
    """One problem per entry whose lines do not sum to zero, naming the entry."""
    ids = unbalanced_entries()
    if not ids:
        return []
    entries = JournalEntry.objects.in_bulk(ids)
    problems = []
    for pk in ids:
        entry = entries.get(pk)
        if entry is None:
            problems.append(_("entry %(id)d does not balance") % {"id": pk})
        else:
            problems.append(
                _("entry %(id)d (%(kind)s %(reference)s) does not balance")
                % {"id": pk, "kind": entry.kind, "reference": entry.reference}
            )
    return problems
