from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError


def validate_credit_code(value: str) -> None:
    """Unified social credit code (统一社会信用代码): 18 characters with a check digit."""
    try:
        uscc.validate(value)
    except StdnumError as exc:
        raise ValidationError(
            _("“%(value)s” is not a valid unified social credit code."),
            code="invalid_credit_code",
            params={"value": value},
        ) from exc


def validate_currency(value: str) -> None:
    if value not in settings.CURRENCIES:
        raise ValidationError(
            _("Unknown or unsupported currency “%(value)s”; supported: %(supported)s."),
            code="invalid_currency",
            params={"value": value, "supported": ", ".join(settings.CURRENCIES)},
        )


def validate_payment_method(value: str) -> None:
    if value not in settings.PAYMENT_METHODS:
        raise ValidationError(
            _("Unknown payment method “%(value)s”; available: %(available)s."),
            code="invalid_payment_method",
            params={"value": value, "available": ", ".join(settings.PAYMENT_METHODS)},
        )
