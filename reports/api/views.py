"""The finance reports over the API: the list a user may open, and one report as
JSON, CSV or Excel.

Which report a user may read is the report's own permissions (``Report.visible_to``),
not a model's: a report reads several tables. Filters are the same form the admin
pages use, so a bad date is refused with the same message under its field.

Staff and API keys may read them. A key scoped to a customer reads only the
reports that can be cut to one customer, always with its customer as the filter:
asking for another customer is refused as an unknown customer would be, and the
reconciliation report (the company's bank accounts) is a 404, as if it did not
exist.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from feemgmt.api.permissions import is_api_caller
from feemgmt.api.scoping import customer_scope

from ..exports import report_json
from ..forms import ReportFilterForm
from ..registry import REPORTS, reports_for
from ..selectors.sql import as_of
from .renderers import ReportCSVRenderer, ReportXLSXRenderer
from .serializers import ReportDataSerializer, ReportSummarySerializer

# The reports that read the customer filter, so can be cut to one customer.
CUSTOMER_REPORTS = frozenset(
    {"customer-status", "aging", "collections", "income", "failed-rate", "balances"}
)


class IsStaff(BasePermission):
    """Staff accounts and API keys (each report then checks its permissions)."""

    def has_permission(self, request, view):
        return is_api_caller(request)


def reports_open_to(request):
    reports = reports_for(request.user)
    if customer_scope(request) is None:
        return reports
    return [report for report in reports if report.name in CUSTOMER_REPORTS]


def scoped_filters(request) -> dict:
    """The query's filters, the customer forced to a scoped key's own."""
    params = request.query_params.copy()
    customer_id = customer_scope(request)
    if customer_id is not None:
        given = [value for value in params.getlist("customer") if value]
        if given and given != [str(customer_id)]:
            raise ValidationError({"customer": [_("No customer has this id.")]})
        params["customer"] = str(customer_id)
    return params


class ReportListView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        summary=_("List the reports you may open"),
        responses=ReportSummarySerializer(many=True),
        tags=["reports"],
    )
    def get(self, request):
        return Response(
            [
                {
                    "name": report.name,
                    "title": str(report.title),
                    "url": request.build_absolute_uri(
                        reverse("reports-api-detail", args=[report.name])
                    ),
                }
                for report in reports_open_to(request)
            ]
        )


def report_filters(request):
    """The query's filters, or a 400 with a message per field. A customer id that
    names no customer is a filter nothing matches, as on the lists (the report has
    no rows), not an error: the shared form refuses it for the admin pages."""
    form = ReportFilterForm(scoped_filters(request))
    if form.is_valid():
        return form.filters()
    errors = {
        field: list(form.errors[field])
        for field, field_errors in form.errors.as_data().items()
        if not (field == "customer" and all(e.code == "unknown" for e in field_errors))
    }
    if errors:
        raise ValidationError(errors)
    form.cleaned_data["customer"] = int(form.data["customer"])
    return form.filters()


FILTER_PARAMETERS = [
    OpenApiParameter("date_from", OpenApiTypes.DATE, description=_("First day, inclusive.")),
    OpenApiParameter(
        "date_to",
        OpenApiTypes.DATE,
        description=_(
            "Last day, inclusive; balances and aging are taken at its end (default today)."
        ),
    ),
    OpenApiParameter(
        "customer", {"type": "integer", "minimum": 1}, description=_("A customer's id.")
    ),
    OpenApiParameter(
        "currency",
        OpenApiTypes.STR,
        enum=[code for code, _label in settings.CURRENCY_CHOICES],
        description=_("An ISO 4217 code, e.g. CNY."),
    ),
    OpenApiParameter(
        "format", OpenApiTypes.STR, enum=["json", "csv", "xlsx"], description=_("Default json.")
    ),
    OpenApiParameter(
        "name",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        enum=list(REPORTS),
        description=_("The report's name."),
    ),
]


class ReportDetailView(APIView):
    permission_classes = [IsStaff]
    renderer_classes = [JSONRenderer, ReportCSVRenderer, ReportXLSXRenderer]

    @extend_schema(
        summary=_("Get a report as JSON, CSV or Excel"),
        parameters=FILTER_PARAMETERS,
        responses={
            (200, "application/json"): ReportDataSerializer,
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.BINARY, description=_("UTF-8 with a byte order mark.")
            ),
            (200, ReportXLSXRenderer.media_type): OpenApiResponse(
                response=OpenApiTypes.BINARY, description=_("One sheet per currency.")
            ),
            400: OpenApiResponse(description=_("Invalid filters: a message per field.")),
            403: OpenApiResponse(description=_("You lack a permission the report needs.")),
            404: OpenApiResponse(description=_("No report has this name.")),
        },
        tags=["reports"],
    )
    def get(self, request, name: str):
        report = REPORTS.get(name)
        if report is None or (customer_scope(request) is not None and name not in CUSTOMER_REPORTS):
            raise Http404
        if not report.visible_to(request.user):
            raise PermissionDenied(_("You do not have permission to open this report."))
        filters = report_filters(request)
        result = report.run(filters)
        fmt = request.accepted_renderer.format
        if fmt == "json":
            return Response(report_json(result))
        response = Response(result)
        filename = f"{report.name}-{as_of(filters).isoformat()}.{fmt}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def options(self, request, *args, **kwargs):
        """The endpoint's description is JSON whatever format was asked for."""
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
        return super().options(request, *args, **kwargs)

    def handle_exception(self, exc):
        """Errors are JSON whatever format was asked for: a spreadsheet cannot say
        which filter was wrong."""
        response = super().handle_exception(exc)
        renderer = getattr(self.request, "accepted_renderer", None)
        if renderer is not None and renderer.format != "json":
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
        return response
