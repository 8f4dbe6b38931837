"""System check for ``settings.PAYMENT_ADAPTERS`` (register it in PaymentsConfig.ready()).

Errors, so ``manage.py check`` stops a deploy: an entry whose class cannot be imported
or is not a PaymentAdapter, a malformed entry, and an entry whose name is not a payment
method a contract may name. A payment method without an adapter yet is not reported:
the adapters land one by one, and collecting for such a method fails with
UnknownAdapter naming it.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from payments.adapters import registry


def check_payment_adapters(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    config = getattr(settings, "PAYMENT_ADAPTERS", {})
    if not isinstance(config, Mapping):
        return [
            checks.Error(
                "PAYMENT_ADAPTERS must be a dict of name → {'class': ..., 'options': {...}}.",
                id="payments.E001",
            )
        ]
    methods = getattr(settings, "PAYMENT_METHODS", {})
    errors: list[checks.CheckMessage] = []
    for name in config:
        try:
            registry.adapter_class(name)
        except ImproperlyConfigured as exc:
            errors.append(
                checks.Error(
                    f"PAYMENT_ADAPTERS[{name!r}]: {exc}",
                    hint="Point 'class' at a PaymentAdapter subclass, e.g. "
                    "'payments.adapters.sandbox.SandboxAdapter'.",
                    id="payments.E002",
                )
            )
        if name not in methods:
            errors.append(
                checks.Error(
                    f"PAYMENT_ADAPTERS[{name!r}] is not a payment method in PAYMENT_METHODS.",
                    hint=f"Known methods: {', '.join(methods) or '(none)'}.",
                    id="payments.E003",
                )
            )
    return errors
