"""Receiving accounts."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.services import audit_record, changes_between, snapshot
from feemgmt.core.exceptions import BusinessError

from ..models import BankAccount


def column_mapping_check(value: dict | None) -> dict | None:
    """A saved column mapping must be one the CSV/Excel reader understands."""
    if not value:
        return None
    from ..parsers.tabular import ColumnMapping

    try:
        return ColumnMapping.from_dict(value).to_dict()
    except (ValueError, TypeError, KeyError) as error:
        raise BusinessError({"column_mapping": [str(error)]}) from error


AUDITED_FIELDS = (
    "code",
    "name",
    "kind",
    "bank",
    "account_number",
    "holder",
    "payout_name",
    "currency",
    "default_format",
    "column_mapping",
    "receives_transfers",
    "active",
)


@transaction.atomic
def bank_account_create(**fields) -> BankAccount:
    """Add a receiving account (its ledger cash account is opened on first use)."""
    fields["column_mapping"] = column_mapping_check(fields.get("column_mapping"))
    account = BankAccount(**fields)
    try:
        account.full_clean()
    except ValidationError as error:
        raise BusinessError(error.message_dict) from error
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError as error:
        raise BusinessError({"code": [_("Another receiving account has this code.")]}) from error
    audit_record(
        action="bank_account.created",
        obj=account,
        changes={"after": snapshot(account, AUDITED_FIELDS)},
    )
    return account


@transaction.atomic
def bank_account_update(*, account: BankAccount, **fields) -> BankAccount:
    """Change a receiving account's details (its code and currency stay: its
    statements and cash account are filed under them)."""
    account = BankAccount.objects.select_for_update().get(pk=account.pk)
    for frozen in ("code", "currency"):
        if frozen in fields and fields[frozen] != getattr(account, frozen):
            raise BusinessError(
                {frozen: [_("The code and currency of an account in use cannot change.")]}
            )
    if "column_mapping" in fields:
        fields["column_mapping"] = column_mapping_check(fields["column_mapping"])
    before = snapshot(account, AUDITED_FIELDS)
    for name, value in fields.items():
        setattr(account, name, value)
    try:
        account.full_clean()
    except ValidationError as error:
        raise BusinessError(error.message_dict) from error
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError as error:
        raise BusinessError(
            {
                "receives_transfers": [
                    _(
                        "Another active account is already shown on payment notices in this "
                        "currency."
                    )
                ]
            }
        ) from error
    changes = changes_between(before, snapshot(account, AUDITED_FIELDS))
    if changes:
        audit_record(action="bank_account.updated", obj=account, changes=changes)
    return account
