"""What collection does when a contract's termination cuts one of its charges.

Billing cancels the charges for periods after the new last day and re-prices the
one the end date cuts; before it touches a charge still being collected, it asks
here (``billing.events.charge_cutting``), and the charge goes through the rules of
the staff cancel (:func:`payments.services.staff.charge_release`):

- an attempt whose outcome is unknown refuses the whole termination, naming the
  charge: the gateway may have taken the money, so staff retry it first;
- a charge with money collected refuses it too: the payment is refunded first;
- what the prepaid balance paid goes back there, and a QR code, payment notice or
  queued direct debit still out is withdrawn (a late payment of it is credited to
  the prepaid balance, as for any charge no longer owing it);
- a re-priced charge that lost its attempt or its prepaid part is due for
  collection again the same day, at its new amount (the balance is spent first).
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from billing.models import Charge
from feemgmt.core.exceptions import BusinessError

from .staff import charge_release, resolve_collection_alerts


def charge_cut_release(*, charge: Charge, cancel: bool, on: dt.date) -> None:
    """Take collection off ``charge`` before the termination cancels it
    (``cancel``) or re-prices it; raises BusinessError to refuse the termination."""
    try:
        released = charge_release(charge=charge, on=on)
    except BusinessError as exc:
        raise BusinessError(
            _("The contract cannot be terminated yet: charge #%(id)s (%(charge)s): %(reason)s")
            % {"id": charge.pk, "charge": charge, "reason": " ".join(exc.messages())},
            code="charge_in_collection",
        ) from exc
    if cancel:
        resolve_collection_alerts(charge)
    elif released:
        charge.next_attempt_on = on
        charge.save(update_fields=["next_attempt_on", "updated_at"])
