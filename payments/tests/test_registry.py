"""Finding adapters by name (settings.PAYMENT_ADAPTERS) and the system check on it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from payments.adapters import PaymentAdapter, UnknownAdapter, adapter_names, get_adapter
from payments.adapters.checks import check_payment_adapters
from payments.adapters.registry import adapter_class
from payments.adapters.sandbox import SandboxAdapter

SANDBOX = "payments.adapters.sandbox.SandboxAdapter"


def adapters(**entries):
    return override_settings(PAYMENT_ADAPTERS=entries)


def test_the_configured_sandbox_is_found_by_name():
    adapter = get_adapter("sandbox")
    assert isinstance(adapter, SandboxAdapter) and isinstance(adapter, PaymentAdapter)
    assert adapter.name == "sandbox"
    assert "sandbox" in adapter_names()


def test_one_instance_per_name_per_process():
    assert get_adapter("sandbox") is get_adapter("sandbox")


def test_adapter_names_follow_the_settings_order():
    with adapters(
        sandbox={"class": SANDBOX, "options": {"secret": "a"}},
        alipay={"class": SANDBOX, "options": {"secret": "b"}},
    ):
        assert adapter_names() == ["sandbox", "alipay"]
        assert get_adapter("alipay").name == "alipay"
        assert get_adapter("sandbox").name == "sandbox"


def test_an_unknown_name_says_which():
    with pytest.raises(UnknownAdapter, match="“unionpay”") as error:
        get_adapter("unionpay")
    assert isinstance(error.value, ImproperlyConfigured)
    assert error.value.name == "unionpay"


def test_a_bad_class_path_names_the_adapter_and_the_path():
    with (
        adapters(sandbox={"class": "payments.adapters.nowhere.Missing", "options": {}}),
        pytest.raises(ImproperlyConfigured, match=r"“sandbox”.*nowhere\.Missing"),
    ):
        get_adapter("sandbox")


def test_a_class_that_is_not_an_adapter_is_refused():
    with (
        adapters(sandbox={"class": "decimal.Decimal"}),
        pytest.raises(ImproperlyConfigured, match="not a PaymentAdapter"),
    ):
        adapter_class("sandbox")


def test_an_entry_without_a_class_is_refused():
    with adapters(sandbox={"options": {}}), pytest.raises(ImproperlyConfigured, match="'class'"):
        get_adapter("sandbox")


def test_bad_options_fail_when_the_adapter_is_built():
    with (
        adapters(sandbox={"class": SANDBOX, "options": {}}),
        pytest.raises(ImproperlyConfigured, match="secret"),
    ):
        get_adapter("sandbox")


def test_the_cache_is_dropped_when_the_setting_changes():
    before = get_adapter("sandbox")
    with adapters(sandbox={"class": SANDBOX, "options": {"secret": "other", "app_id": "x"}}):
        during = get_adapter("sandbox")
        assert during is not before
        assert during.app_id == "x"
    after = get_adapter("sandbox")
    assert after is not during
    assert after.app_id == "sandbox-app"


def test_the_adapter_repr_hides_its_options():
    with adapters(sandbox={"class": SANDBOX, "options": {"secret": "hush-hush"}}):
        assert "hush-hush" not in repr(get_adapter("sandbox"))


# --- System check --------------------------------------------------------------


def test_the_project_settings_pass_the_check():
    assert check_payment_adapters() == []


def test_a_method_without_an_adapter_yet_is_not_reported():
    # bank_transfer, alipay, wechat_pay and auto_debit have no adapter yet.
    with adapters(sandbox={"class": SANDBOX, "options": {"secret": "s"}}):
        assert check_payment_adapters() == []


def test_an_adapter_class_that_does_not_import_is_an_error():
    with adapters(sandbox={"class": "payments.adapters.nowhere.Missing"}):
        errors = check_payment_adapters()
    assert [e.id for e in errors] == ["payments.E002"]
    assert "sandbox" in errors[0].msg and "nowhere.Missing" in errors[0].msg
    assert errors[0].is_serious()


def test_an_adapter_for_no_payment_method_is_an_error():
    with adapters(
        sandbox={"class": SANDBOX, "options": {"secret": "s"}},
        paypal={"class": SANDBOX, "options": {"secret": "s"}},
    ):
        errors = check_payment_adapters()
    assert [e.id for e in errors] == ["payments.E003"]
    assert "paypal" in errors[0].msg


def test_both_errors_for_one_entry_are_reported():
    with adapters(paypal={"class": "nowhere.Missing"}):
        assert [e.id for e in check_payment_adapters()] == ["payments.E002", "payments.E003"]


def test_a_setting_that_is_not_a_dict_is_an_error():
    with override_settings(PAYMENT_ADAPTERS=["sandbox"]):
        assert [e.id for e in check_payment_adapters()] == ["payments.E001"]
