"""Field validators of the payments models (run by model forms and serializers alike)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import bic, iban
from stdnum.exceptions import ValidationError as StdnumError


def validate_iban(value: str) -> None:
    try:
        iban.validate(value)
    except StdnumError as exc:
        raise ValidationError(
            _("Enter a valid IBAN (%(reason)s)."), code="invalid_iban", params={"reason": exc}
        ) from exc


def validate_bic(value: str) -> None:
    try:
        bic.validate(value)
    except StdnumError as exc:
        raise ValidationError(
            _("Enter a valid BIC (%(reason)s)."), code="invalid_bic", params={"reason": exc}
        ) from exc
