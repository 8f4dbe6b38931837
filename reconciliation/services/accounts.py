"""Receiving accounts."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.services import audit_record, snapshot
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
