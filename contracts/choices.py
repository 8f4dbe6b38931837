from django.db import models
from django.utils.translation import gettext_lazy as _


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed")
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")
    TERMINATED = "terminated", _("Terminated")


class Alignment(models.TextChoices):
    CALENDAR = "calendar", _("Calendar (start of month / quarter / year)")
    ANNIVERSARY = "anniversary", _("Anniversary of service start")


class Proration(models.TextChoices):
    DAILY = "daily", _("By days used")
    NONE = "none", _("None (charge the full period)")


class FeeKind(models.TextChoices):
    SIGNING = "signing", _("Signing fee")
    SERVICE_START = "service_start", _("Service start fee")
    RECURRING = "recurring", _("Recurring fee")


class Cycle(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    ANNUAL = "annual", _("Annual")


class SigningTreatment(models.TextChoices):
    FEE = "fee", _("One-off fee income")
    PREPAYMENT = "prepayment", _("Prepayment to the customer's balance")
    DEPOSIT = "deposit", _("Deposit, refundable at termination")


# The contract state machine, the one table of allowed status changes: every change
# is a service in contracts/services/ that locks the contract and checks it here.
# draft → signed on signing (and on to active in the same step when service has
# begun); signed → active and signed/active → ended by the daily status job;
# signed/active → terminated by an early termination. ended and terminated are final.
CONTRACT_TRANSITIONS: dict[str, frozenset[str]] = {
    ContractStatus.DRAFT: frozenset({ContractStatus.SIGNED}),
    ContractStatus.SIGNED: frozenset(
        {ContractStatus.ACTIVE, ContractStatus.ENDED, ContractStatus.TERMINATED}
    ),
    ContractStatus.ACTIVE: frozenset({ContractStatus.ENDED, ContractStatus.TERMINATED}),
    ContractStatus.ENDED: frozenset(),
    ContractStatus.TERMINATED: frozenset(),
}


def contract_statuses_into(target: str) -> list[str]:
    """The statuses the table allows to become ``target``, for set-based changes."""
    return [status for status, targets in CONTRACT_TRANSITIONS.items() if target in targets]
