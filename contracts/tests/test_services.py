"""Contract rules as the services enforce them, whichever interface calls them."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from contracts.models import Contract, Customer, Fee
from contracts.services import (
    FeeInput,
    contract_sign,
    contract_terminate,
    contract_update,
    contracts_advance_status,
    customer_create,
)
from contracts.tests.factories import CustomerFactory, make_contract, monthly
from feemgmt.core.exceptions import BusinessError, InvalidTransition

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 28, 10, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(TODAY, tick=False):
        yield TODAY.date()


class TestCustomer:
    def test_valid_credit_code_is_accepted(self):
        customer = customer_create(
            code="C1",
            name="上海示例科技有限公司",
            email="a@example.com",
            credit_code="91110000600037341L",
        )
        assert customer.currency == "CNY"

    def test_bad_credit_code_is_refused_and_nothing_written(self):
        with pytest.raises(BusinessError) as err:
            customer_create(
                code="C1", name="x", email="a@example.com", credit_code="91110000600037341X"
            )
        assert "credit_code" in err.value.detail
        assert not Customer.objects.exists()

    def test_duplicate_credit_code_names_the_field(self):
        customer_create(
            code="C1", name="x", email="a@example.com", credit_code="91110000600037341L"
        )
        with pytest.raises(BusinessError) as err:
            customer_create(
                code="C2", name="y", email="b@example.com", credit_code="91110000600037341L"
            )
        assert list(err.value.detail) == ["credit_code"]

    def test_duplicate_code_names_the_field(self):
        customer_create(code="C1", name="x", email="a@example.com")
        with pytest.raises(BusinessError) as err:
            customer_create(code="C1", name="y", email="b@example.com")
        assert list(err.value.detail) == ["code"]

    def test_unknown_currency(self):
        with pytest.raises(BusinessError) as err:
            customer_create(code="C1", name="x", email="a@example.com", currency="XYZ")
        assert "currency" in err.value.detail


class TestFees:
    @pytest.mark.parametrize(
        ("fee", "field"),
        [
            (FeeInput(kind="recurring", amount="100.00"), "cycle"),
            (FeeInput(kind="recurring", amount="-1", cycle="monthly"), "amount"),
            (FeeInput(kind="recurring", amount="0", cycle="monthly"), "amount"),
            (FeeInput(kind="recurring", amount="1.001", cycle="monthly"), "amount"),
            (FeeInput(kind="recurring", amount="abc", cycle="monthly"), "amount"),
            (FeeInput(kind="recurring", amount="NaN", cycle="monthly"), "amount"),
            (FeeInput(kind="signing", amount="100"), "treatment"),
            (FeeInput(kind="service_start", amount="100", cycle="monthly"), "cycle"),
            (FeeInput(kind="weekly", amount="100"), "kind"),
        ],
    )
    def test_bad_fee_is_refused_with_its_field(self, fee, field):
        with pytest.raises(BusinessError) as err:
            make_contract(fees=[monthly(), fee])
        assert list(err.value.detail["fees"]) == ["1"]
        assert field in err.value.detail["fees"]["1"]
        assert not Contract.objects.exists()

    def test_jpy_has_no_minor_unit(self):
        with pytest.raises(BusinessError):
            make_contract(currency="JPY", fees=[monthly("100.5")])
        contract = make_contract(currency="JPY", fees=[monthly("100")])
        assert Fee.objects.get(contract=contract).amount.amount == 100

    def test_a_contract_needs_a_fee(self):
        with pytest.raises(BusinessError) as err:
            make_contract(fees=[])
        assert "fees" in err.value.detail


class TestLifecycle:
    def test_draft_can_be_edited(self):
        contract = make_contract()
        contract_update(contract=contract, fees=[monthly("999.00")], number="HT-NEW")
        contract.refresh_from_db()
        assert contract.number == "HT-NEW"
        assert [str(f.amount.amount) for f in contract.fees.all()] == ["999.00"]

    def test_signing_freezes_terms_and_fees(self, today):
        contract = make_contract(signed_on=today)
        with pytest.raises(BusinessError):
            contract_update(contract=contract, fees=[monthly("1.00")])
        with pytest.raises(BusinessError):
            contract_update(contract=contract, service_start=dt.date(2027, 1, 1))
        assert [str(f.amount.amount) for f in contract.fees.all()] == ["3000.00"]

    def test_cannot_sign_twice_or_in_the_future(self, today):
        contract = make_contract()
        with pytest.raises(BusinessError) as err:
            contract_sign(contract=contract, signed_on=today + dt.timedelta(days=1))
        assert "signed_on" in err.value.detail
        contract_sign(contract=contract, signed_on=today)
        with pytest.raises(InvalidTransition):
            contract_sign(contract=contract, signed_on=today)

    def test_signed_before_start_is_signed_then_active(self, today):
        contract = make_contract(service_start=dt.date(2026, 12, 1), signed_on=today)
        assert contract.status == "signed"
        contracts_advance_status(on=dt.date(2026, 12, 1))
        contract.refresh_from_db()
        assert contract.status == "active"

    def test_service_end_before_start_is_refused(self):
        with pytest.raises(BusinessError) as err:
            make_contract(service_start=dt.date(2026, 5, 1), service_end=dt.date(2026, 4, 30))
        assert "service_end" in err.value.detail

    def test_terminate_rules(self, today):
        draft = make_contract()
        with pytest.raises(InvalidTransition):
            contract_terminate(contract=draft, end_date=today)
        contract = make_contract(
            service_start=dt.date(2026, 1, 1),
            service_end=dt.date(2026, 12, 31),
            signed_on=dt.date(2025, 12, 1),
        )
        with pytest.raises(BusinessError) as err:
            contract_terminate(contract=contract, end_date=dt.date(2027, 1, 31))
        assert "end_date" in err.value.detail
        with pytest.raises(BusinessError):
            contract_terminate(contract=contract, end_date=dt.date(2025, 11, 30))
        contract_terminate(contract=contract, end_date=dt.date(2026, 12, 15))
        with pytest.raises(InvalidTransition):
            contract_terminate(contract=contract, end_date=dt.date(2026, 12, 10))

    def test_duplicate_number_is_a_field_error(self):
        customer = CustomerFactory()
        make_contract(customer=customer, number="HT-1")
        with pytest.raises(BusinessError) as err:
            make_contract(customer=customer, number="HT-1")
        assert list(err.value.detail) == ["number"]
