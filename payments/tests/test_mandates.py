"""Mandates: their rules hold wherever a mandate is written, not only in one form."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from contracts.tests.factories import CustomerFactory
from payments.choices import MandateStatus
from payments.models import Mandate
from payments.services.mandates import mandates_revoke

pytestmark = pytest.mark.django_db

VALID = "DE89370400440532013000"


def mandate(**overrides):
    fields = {
        "customer": CustomerFactory(),
        "reference": "MNDT-1",
        "signed_on": dt.date(2026, 1, 15),
        "debtor_name": "Li Si",
        "debtor_iban": VALID,
    }
    return Mandate(**{**fields, **overrides})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("debtor_iban", "DE89370400440532013001", "valid IBAN"),
        ("debtor_iban", "6222021234567890123", "valid IBAN"),
        ("debtor_bic", "NOTABIC", "valid BIC"),
    ],
)
def test_an_invalid_account_is_refused_by_the_model(field, value, message):
    with pytest.raises(ValidationError) as error:
        mandate(**{field: value}).full_clean()
    assert message in str(error.value.message_dict[field])


def test_a_mandate_cannot_end_before_it_is_signed():
    ended_early = mandate(valid_until=dt.date(2026, 1, 14))
    with pytest.raises(ValidationError, match="cannot end before it is signed"):
        ended_early.full_clean()
    with pytest.raises(IntegrityError):
        ended_early.save()


def test_revoking_stamps_the_time_once():
    active = mandate()
    active.full_clean()
    active.save()

    assert mandates_revoke(Mandate.objects.all()) == 1
    active.refresh_from_db()
    revoked_at = active.revoked_at
    assert active.status == MandateStatus.REVOKED and revoked_at is not None
    assert mandates_revoke(Mandate.objects.all()) == 0
    active.refresh_from_db()
    assert active.revoked_at == revoked_at


def test_statuses_shared_with_other_models_read_right_in_chinese(zh_hans):
    from payments.choices import RefundStatus

    assert str(MandateStatus.ACTIVE.label) == "有效"  # not a contract's 履约中
    assert str(RefundStatus.FAILED.label) == "退款失败"  # not a deduction's 扣款失败
