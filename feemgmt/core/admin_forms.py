"""Admin change forms whose writes go through a service.

Business rules live in services; the admin must not bypass them by saving model
forms. A ModelAdmin using :class:`ServiceFormAdminMixin` calls its service from
the save hooks; when the service refuses (BusinessError) the request is rolled
back and the form shown again with the service's messages on the fields they
concern, as if form validation had found them. Nothing is written.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect

from feemgmt.core.exceptions import BusinessError

# Set on the request when a service refused the first pass of a change form.
_REFUSAL_ATTR = "_admin_service_refusal"


class ServiceRefused(Exception):
    """Raised from a save hook when a service refuses, to abandon (and roll back)
    the change-form request and render the form again with the error."""

    def __init__(self, error: BusinessError):
        super().__init__(str(error))
        self.error = error


def error_messages(value) -> list[str]:
    """A service error's detail (message, list or dict), flattened to messages."""
    return BusinessError(value).messages()


def service_refusal(request) -> BusinessError | None:
    """The error a service raised on this request's first pass, if any."""
    return getattr(request, _REFUSAL_ATTR, None)


def add_business_error(form: forms.Form, error: BusinessError, *, skip=()) -> None:
    """Put a service's error on the form: per field where the form has that field,
    otherwise at the top of the form."""
    if not isinstance(error.detail, dict):
        form.add_error(None, error.messages())
        return
    for key, value in error.detail.items():
        if key in skip:
            continue
        form.add_error(key if key in form.fields else None, error_messages(value))


class ServiceModelForm(forms.ModelForm):
    """A model form whose instance is written by a service, not by ``save()``.

    ``service_error`` is set (on a subclass made per request) when the service
    refused the same input: clean() then reports it like any validation error.
    """

    service_error: BusinessError | None = None
    error_keys_elsewhere: tuple[str, ...] = ()

    def clean(self):
        cleaned_data = super().clean()
        if self.service_error is not None:
            add_business_error(self, self.service_error, skip=self.error_keys_elsewhere)
        return cleaned_data


class ServiceFormAdminMixin:
    """Change form in two passes when the service refuses.

    The first pass validates the form and calls the service from the save hooks.
    If the service raises BusinessError, the whole request is rolled back (Django
    runs the change form in one transaction) and the form is validated again with
    the error attached, so the page comes back with the messages in place and
    nothing written.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            setattr(request, _REFUSAL_ATTR, refused.error)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            # The error named nothing this form shows: say it as a message.
            self.message_user(request, " ".join(refused.error.messages()), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        error = service_refusal(request)
        if error is None:
            return form_class
        return type(form_class.__name__, (form_class,), {"service_error": error})

    def construct_change_message(self, request, form, formsets, add=False):
        for formset in formsets:
            # The service, not formset.save(), wrote the inline rows.
            for name in ("new_objects", "changed_objects", "deleted_objects"):
                if not hasattr(formset, name):
                    setattr(formset, name, [])
        return super().construct_change_message(request, form, formsets, add)

    @staticmethod
    def _copy_saved(target, saved) -> None:
        """Make the admin's instance the row the service wrote (the admin logs and
        redirects with the object it built from the form)."""
        for field in saved._meta.concrete_fields:
            setattr(target, field.attname, getattr(saved, field.attname))
        target._state.adding = False
        target._state.db = saved._state.db
