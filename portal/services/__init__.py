"""The portal's writes (docs/portal.md): inviting customer logins, authorising and
revoking a direct-debit mandate, paying an open charge. Each one checks that what it
touches belongs to the customer, and leaves the payments rows to payments' services."""

from .invitations import invitation_link, invitation_send, portal_user_invite, portal_user_reinvite
from .mandates import (
    MANDATE_CONSENT_TEXT,
    mandate_consent_text,
    portal_mandate_authorise,
    portal_mandate_revoke,
)
from .payments import PAY_NOW_METHODS, portal_charge_pay, portal_sandbox_complete

__all__ = [
    "MANDATE_CONSENT_TEXT",
    "PAY_NOW_METHODS",
    "invitation_link",
    "invitation_send",
    "mandate_consent_text",
    "portal_charge_pay",
    "portal_mandate_authorise",
    "portal_mandate_revoke",
    "portal_sandbox_complete",
    "portal_user_invite",
    "portal_user_reinvite",
]
