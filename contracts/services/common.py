"""What the contract services share: model validation as a BusinessError, and a
save that turns a unique violation into a message on its field."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from feemgmt.core.exceptions import BusinessError


def full_clean(instance, *, exclude=None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise BusinessError(exc.message_dict) from exc


def save_unique(instance, messages: dict[str, str]) -> None:
    """Save, turning a unique violation into a message on the field it concerns.

    The database decides (two requests racing for one number cannot both win);
    ``messages`` is ordered so that a longer column name is tried before a name it
    contains (credit_code before code).
    """
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        text = str(exc)
        for field, message in messages.items():
            if re.search(rf"\b{field}\b|_{field}_(key|unique)", text):
                raise BusinessError({field: [message]}, code="unique") from exc
        raise
