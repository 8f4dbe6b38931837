"""Query-string filters of the API lists (django-filter), answering what the
schema promises.

A filter by object (``?customer=7``, ``?contract=12``) takes an id, and the schema
says so (an integer). An id that names no object the caller can see is a valid
filter value that matches nothing: the list is empty, as it is for a filter by a
status no row has. Only a malformed value (``?customer=abc``), an unknown choice
(``?status=lost``) or a bad date is a 400 naming the parameter.

For a key scoped to one customer (feemgmt/api/scoping.py) another customer's id
is not among the objects it can see, so it lists nothing too: the answer does not
tell whether the id exists.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import rest_framework as filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ErrorDetail, ValidationError


def _names_no_object(field: forms.Field, value, errors) -> bool:
    """True when the only error is that this well-formed id matches no object."""
    if not isinstance(field, forms.ModelChoiceField) or isinstance(
        field, forms.ModelMultipleChoiceField
    ):
        return False
    if any(error.code != "invalid_choice" for error in errors):
        return False
    meta = field.queryset.model._meta
    key = meta.get_field(field.to_field_name) if field.to_field_name else meta.pk
    try:
        key.to_python(value)
    except (DjangoValidationError, TypeError, ValueError):
        return False
    return True


class FilterBackend(DjangoFilterBackend):
    """django-filter with filters by object answering an empty list for an id
    that matches nothing (the project's default filter backend)."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if filterset.is_valid():
            return filterset.qs
        form = filterset.form
        errors = form.errors.as_data()
        unmatched = {
            name
            for name, field_errors in errors.items()
            if name in form.fields
            and _names_no_object(form.fields[name], form[name].data, field_errors)
        }
        if unmatched == set(errors):
            return queryset.none()
        raise ValidationError(
            {
                name: [ErrorDetail(e.message % (e.params or ()), code=e.code) for e in field_errors]
                for name, field_errors in errors.items()
                if name not in unmatched
            }
        )


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(filters.NumberFilter):
    """A whole number (an id, an HTTP status), documented and read as one: a
    NumberFilter alone is a decimal in the schema and accepts 1.5."""

    field_class = forms.IntegerField
