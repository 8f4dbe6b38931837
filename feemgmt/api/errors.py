"""Every API error is JSON with a message per field, in DRF's usual shape.

Service-level BusinessError becomes a 400 like a serializer error, so an
integrator handles one format whether a field was malformed or a rule refused it.

``page_not_found`` is the project's 404 page (``handler404`` in feemgmt/urls.py):
under /api/ a path no endpoint serves (``/api/v1/charges/0.5/``, an id that is not
a number) answers JSON like any other 404; elsewhere Django's page is kept.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from feemgmt.core.exceptions import BusinessError, InvalidTransition


def exception_handler(exc, context):
    if isinstance(exc, BusinessError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"detail": str(exc.detail)}
        code = status.HTTP_409_CONFLICT if isinstance(exc, InvalidTransition) else 400
        return Response(detail, status=code)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


def page_not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)
