"""Adapters by name, from ``settings.PAYMENT_ADAPTERS`` (Silver's registry).

    PAYMENT_ADAPTERS = {"sandbox": {"class": "payments.adapters.sandbox.SandboxAdapter",
                                    "options": {"secret": "..."}}}

A contract stores the payment method's name; :func:`get_adapter` turns it into the one
adapter instance of this process (adapters are stateless, so threads share it). The
cache is dropped when a test overrides ``PAYMENT_ADAPTERS``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from payments.adapters.base import PaymentAdapter

__all__ = ["UnknownAdapter", "adapter_class", "adapter_names", "clear_cache", "get_adapter"]

_cache: dict[str, PaymentAdapter] = {}
_lock = threading.Lock()


class UnknownAdapter(ImproperlyConfigured):
    """No adapter is configured under this payment method's name."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(
            _("No payment adapter is configured for the payment method “%(name)s”.")
            % {"name": name}
        )


def _config() -> Mapping[str, Any]:
    config = getattr(settings, "PAYMENT_ADAPTERS", {})
    if not isinstance(config, Mapping):
        raise ImproperlyConfigured("PAYMENT_ADAPTERS must be a dict of name → {class, options}")
    return config


def _entry(name: str) -> tuple[str, Mapping[str, Any]]:
    config = _config()
    if name not in config:
        raise UnknownAdapter(name)
    entry = config[name]
    if not isinstance(entry, Mapping) or not isinstance(entry.get("class"), str):
        raise ImproperlyConfigured(
            f"PAYMENT_ADAPTERS[{name!r}] must be a dict with a 'class' dotted path"
        )
    options = entry.get("options", {})
    if not isinstance(options, Mapping):
        raise ImproperlyConfigured(f"PAYMENT_ADAPTERS[{name!r}]['options'] must be a dict")
    return entry["class"], options


def adapter_names() -> list[str]:
    """The configured adapter names, in settings order."""
    return list(_config())


def adapter_class(name: str) -> type[PaymentAdapter]:
    """Import the class configured for ``name`` (ImproperlyConfigured if it cannot)."""
    path, _options = _entry(name)
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            _("The payment adapter “%(name)s” cannot be loaded from “%(path)s”: %(error)s")
            % {"name": name, "path": path, "error": exc}
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, PaymentAdapter)):
        raise ImproperlyConfigured(
            _("The payment adapter “%(name)s”: “%(path)s” is not a PaymentAdapter class.")
            % {"name": name, "path": path}
        )
    return cls


def get_adapter(name: str) -> PaymentAdapter:
    """The adapter for a payment method's name, built once per process."""
    adapter = _cache.get(name)
    if adapter is not None:
        return adapter
    with _lock:
        adapter = _cache.get(name)
        if adapter is None:
            _path, options = _entry(name)
            adapter = adapter_class(name)(**options)
            adapter.name = name  # the registered name, which a contract stores
            _cache[name] = adapter
    return adapter


def clear_cache() -> None:
    with _lock:
        _cache.clear()


@receiver(setting_changed, dispatch_uid="payments.adapters.registry.clear_cache")
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "PAYMENT_ADAPTERS":
        clear_cache()
