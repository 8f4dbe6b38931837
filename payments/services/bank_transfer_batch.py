"""Many bank transfers at once: a statement's lines booked set-based.

The rules are :func:`payments.services.bank_transfer.bank_transfer_receive`'s — what
is still owed settles the charge, less pays part of it, more settles it with the
excess to the prepaid balance, a charge that owes nothing is paid again into the
prepaid balance, a prepayment or deposit only whole — applied to a whole statement
in a fixed number of queries per batch instead of a dozen per line:

1. the notices named by the references, then their charges locked in id order
   (charge before attempt, as every writer locks), then the attempts;
2. what each charge still owes, from the ledger in one grouped query;
3. the money allocated line by line in the statement's order (two lines paying one
   charge share what it owes);
4. every entry posted through :func:`ledger.bulk.post_many`, the charges and
   attempts moved by the bulk transitions (one audit event each), the receipts
   handed to a worker after commit.

Lines are new (the statement import guarantees it), so none of them can have been
booked before; the ledger's unique (kind, reference) would roll the import back
rather than book one twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from alerts.choices import AlertKind
from alerts.services import NewAlert, alerts_raise_many, alerts_resolve
from billing.models import Charge
from billing.services import charges_settle
from contracts.choices import SigningTreatment
from feemgmt.core.exceptions import BusinessError
from feemgmt.core.money import Money, money_from_db, money_label
from ledger.bulk import Posting, post_many
from ledger.choices import AccountPurpose, EntryKind
from ledger.postings import accounts_for_customers, charge_subject, payment_posting
from ledger.selectors import receivable_by_subject
from ledger.services import account_for
from payments.choices import AttemptStatus
from payments.models import PaymentAttempt

from .attempts import attempts_succeed
from .bank_transfer import METHOD, Receipt, TransferReceipt
from .collection import COLLECTABLE

BATCH = 5_000
_CREDITED = {
    SigningTreatment.FEE: AccountPurpose.RECEIVABLE,
    SigningTreatment.PREPAYMENT: AccountPurpose.PREPAID,
    SigningTreatment.DEPOSIT: AccountPurpose.DEPOSIT_HELD,
}


@dataclass(frozen=True)
class IncomingTransfer:
    """A statement line quoting a remittance reference."""

    reference: str
    amount: Money
    booked_on: dt.date
    line_reference: str  # the ledger reference of what it books: statement-line:<id>


@dataclass
class _Charge:
    pk: int
    status: str
    amount: Money
    customer_id: int
    treatment: str
    owed: Decimal


def _refusal(code: str, field: str, message: str) -> BusinessError:
    return BusinessError({field: [message]}, code=code)


def _notices(references: set[str]) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    refs = sorted(references)
    for start in range(0, len(refs), BATCH):
        rows = PaymentAttempt.objects.filter(
            method=METHOD, provider_reference__any=refs[start : start + BATCH]
        ).values_list("provider_reference", "pk", "charge_id")
        found.update({ref: (pk, charge_id) for ref, pk, charge_id in rows})
    return found


def _lock_charges(charge_ids: list[int]) -> dict[int, _Charge]:
    charges: dict[int, _Charge] = {}
    for start in range(0, len(charge_ids), BATCH):
        rows = (
            Charge.objects.select_for_update(of=("self",))
            .filter(pk__any=charge_ids[start : start + BATCH])
            .order_by("pk")
            .values_list(
                "pk",
                "status",
                "amount",
                "amount_currency",
                "contract__customer_id",
                "fee__treatment",
            )
        )
        for pk, status, amount, currency, customer_id, treatment in rows:
            charges[pk] = _Charge(
                pk, status, Money(amount, currency), customer_id, treatment or "fee", Decimal(0)
            )
    return charges


def _lock_attempts(attempt_ids: list[int]) -> None:
    for start in range(0, len(attempt_ids), BATCH):
        list(
            PaymentAttempt.objects.select_for_update()
            .filter(pk__any=attempt_ids[start : start + BATCH])
            .order_by("pk")
            .values_list("pk")
        )


def _owed(charges: dict[int, _Charge]) -> None:
    """What each collectable charge still owes: the receivable for a fee, the amount
    less what its attempts collected for a prepayment or deposit."""
    fee = [c for c in charges.values() if c.status in COLLECTABLE and c.treatment == "fee"]
    other = [c for c in charges.values() if c.status in COLLECTABLE and c.treatment != "fee"]
    owed = receivable_by_subject(charge_subject(c.pk) for c in fee)
    for charge in fee:
        total = owed.get(charge_subject(charge.pk))
        charge.owed = money_from_db(total, charge.amount.currency.code).amount
    collected = dict(
        PaymentAttempt.objects.filter(
            charge_id__any=[c.pk for c in other], status=AttemptStatus.SUCCEEDED
        )
        .values_list("charge_id")
        .annotate(total=Sum("amount"))
    )
    for charge in other:
        taken = money_from_db(collected.get(charge.pk), charge.amount.currency.code)
        charge.owed = (charge.amount - taken).amount


def bank_transfers_receive(
    transfers: Sequence[IncomingTransfer],
) -> list[TransferReceipt | BusinessError]:
    """Book every transfer; for each, its receipt or why it could not be booked (an
    unknown reference, another currency, a deposit paid in part)."""
    if not transfers:
        return []
    with transaction.atomic():
        notices = _notices({t.reference for t in transfers})
        charges = _lock_charges(sorted({charge_id for _pk, charge_id in notices.values()}))
        _lock_attempts(sorted(pk for pk, _charge_id in notices.values()))
        _owed(charges)
        return _allocate(transfers, notices, charges)


def _allocate(transfers, notices, charges) -> list[TransferReceipt | BusinessError]:
    results: list[TransferReceipt | BusinessError] = []
    postings: list[tuple[str, _Charge, IncomingTransfer, Decimal, Decimal]] = []
    touched: dict[int, int] = {}  # charge -> attempt of the notices paid
    for transfer in transfers:
        found = notices.get(transfer.reference)
        if found is None:
            results.append(
                _refusal(
                    "unknown_reference",
                    "reference",
                    _("No payment notice has the reference %(ref)s.") % {"ref": transfer.reference},
                )
            )
            continue
        attempt_id, charge_id = found
        charge = charges[charge_id]
        currency = charge.amount.currency.code
        amount = transfer.amount.amount
        if transfer.amount.currency.code != currency:
            results.append(
                _refusal(
                    "currency_mismatch",
                    "amount",
                    _("The line is in %(got)s; the charge is in %(expected)s.")
                    % {"got": transfer.amount.currency.code, "expected": currency},
                )
            )
            continue
        owed = charge.owed if charge.status in COLLECTABLE else Decimal(0)
        if charge.treatment != "fee" and owed > 0 and amount != owed:
            results.append(
                _refusal(
                    "amount_mismatch",
                    "amount",
                    _("The line pays %(paid)s; the notice %(ref)s asks for %(asked)s.")
                    % {
                        "paid": money_label(transfer.amount),
                        "ref": transfer.reference,
                        "asked": money_label(Money(owed, currency)),
                    },
                )
            )
            continue
        applied = max(min(owed, amount), Decimal(0))
        excess = amount - applied
        charge.owed = owed - applied
        postings.append((transfer.line_reference, charge, transfer, applied, excess))
        if applied == 0:
            effect = Receipt.DUPLICATE
        elif charge.owed > 0:
            effect = Receipt.PARTIAL
        else:
            effect = Receipt.OVERPAID if excess > 0 else Receipt.SETTLED
            touched[charge.pk] = attempt_id
        results.append(
            TransferReceipt(
                effect=effect,
                attempt_id=attempt_id,
                charge_id=charge.pk,
                applied=Money(applied, currency),
                excess=Money(excess, currency),
                still_owed=Money(charge.owed, currency),
            )
        )
    _post(postings)
    _settle(touched, charges)
    return results


def _post(postings) -> None:
    customers = {(c.customer_id, c.amount.currency.code) for _r, c, _t, _a, _e in postings}
    # each credited account only for the customers it is credited for: most have no
    # prepaid balance, and opening one for each would be a row per customer
    wanted: dict[str, set[tuple[int, str]]] = {}
    for _reference, charge, _transfer, applied, excess in postings:
        key = (charge.customer_id, charge.amount.currency.code)
        if applied:
            wanted.setdefault(_CREDITED[charge.treatment], set()).add(key)
        if excess:
            wanted.setdefault(AccountPurpose.PREPAID, set()).add(key)
    accounts = {purpose: accounts_for_customers(purpose, keys) for purpose, keys in wanted.items()}
    clearing = {
        currency: account_for(
            purpose=AccountPurpose.CLEARING, currency=currency, payment_method=METHOD
        )
        for currency in {currency for _customer, currency in customers}
    }
    entries = []
    alerts = []
    for reference, charge, transfer, applied, excess in postings:
        currency = charge.amount.currency.code
        key = (charge.customer_id, currency)
        if applied:
            credited = accounts[_CREDITED[charge.treatment]][key]
            entries.append(
                payment_posting(
                    reference=f"{reference}:payment",
                    charge_id=charge.pk,
                    amount=applied,
                    currency=currency,
                    on=transfer.booked_on,
                    clearing=clearing[currency],
                    credited=credited,
                )
            )
        if excess:
            entries.append(
                Posting(
                    kind=EntryKind.PREPAYMENT,
                    reference=f"{reference}:excess",
                    currency=currency,
                    on=transfer.booked_on,
                    lines=(
                        (clearing[currency], excess),
                        (accounts[AccountPurpose.PREPAID][key], -excess),
                    ),
                )
            )
            alerts.append(
                NewAlert(
                    kind=AlertKind.UNEXPECTED_PAYMENT,
                    subject=charge_subject(charge.pk),
                    customer_id=charge.customer_id,
                    message=_(
                        "A transfer quoting %(ref)s brought %(excess)s more than the charge "
                        "still needed; it was credited to the customer's prepaid balance."
                    )
                    % {"ref": transfer.reference, "excess": money_label(Money(excess, currency))},
                )
            )
    post_many(entries)
    alerts_raise_many(alerts)


def _settle(touched: dict[int, int], charges: dict[int, _Charge]) -> None:
    if not touched:
        return
    charges_settle(charge_ids=list(touched))
    attempts_succeed(attempt_ids=list(touched.values()))
    overdue = [charge_subject(pk) for pk in touched if charges[pk].status == "overdue"]
    if overdue:
        alerts_resolve(kind=AlertKind.CHARGE_OVERDUE, subject=overdue)
    attempt_ids = sorted(touched.values())

    def hand_over():
        from payments.tasks import send_receipts_task

        for start in range(0, len(attempt_ids), 500):
            send_receipts_task.delay(attempt_ids[start : start + 500])

    transaction.on_commit(hand_over)


__all__ = ["IncomingTransfer", "bank_transfers_receive"]
