"""Alerts over the API: read, newest first, filtered by what finance sorts them by,
and moved through their workflow (acknowledge, assign, snooze, resolve) by the
services the admin's actions call (alerts/services/workflow.py).

The workflow services are set-based and answer how many alerts they moved: an
alert the move does not apply to (resolving a resolved one) moves none, which is
a 409 here. Each move needs ``alerts.change_alert``.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from feemgmt.api.pagination import CursorPagination
from feemgmt.api.permissions import IsStaffWithModelPermissions
from feemgmt.api.scoping import CustomerScopedMixin
from feemgmt.core.exceptions import BusinessError, InvalidTransition

from ..choices import OPEN_STATUSES
from ..models import Alert
from ..selectors import alert_list
from ..services import alerts_acknowledge, alerts_assign, alerts_close, alerts_snooze
from .serializers import AlertAssignSerializer, AlertSerializer, AlertSnoozeSerializer

INVALID = OpenApiResponse(description=gettext_lazy("Invalid input or filter: a message per field."))
FORBIDDEN = OpenApiResponse(
    description=gettext_lazy(
        "Not authenticated, without the permission this needs, or an API key that "
        "cannot be used here."
    )
)
NOT_FOUND = OpenApiResponse(
    description=gettext_lazy(
        "No such alert (or another customer's, for a key scoped to a customer)."
    )
)
REFUSED_CHANGE = OpenApiResponse(
    description=gettext_lazy("The alert's current status does not allow this move.")
)


class AlertFilter(filters.FilterSet):
    open = filters.BooleanFilter(method="filter_open", label="open")

    class Meta:
        model = Alert
        fields = ["status", "severity", "kind", "customer"]

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset.exclude(status__in=OPEN_STATUSES)


class CanMoveAlert(IsStaffWithModelPermissions):
    """Moving an alert changes it: ``change_alert``."""

    perms_map = {
        **IsStaffWithModelPermissions.perms_map,
        "POST": ["%(app_label)s.change_%(model_name)s"],
    }


def _refused(alert: Alert, move: str) -> InvalidTransition:
    return InvalidTransition(
        _("The alert is %(status)s: it cannot be %(move)s.")
        % {"status": alert.get_status_display().lower(), "move": move}
    )


def _on_field(field: str, exc: BusinessError) -> BusinessError:
    """A workflow refusal with a plain message, put under the field it is about."""
    if isinstance(exc.detail, dict):
        return exc
    return BusinessError({field: [str(exc.detail)]}, code=exc.code)


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _move_schema(summary, description, request=None, invalid: bool = False):
    responses = {200: AlertSerializer, 403: FORBIDDEN, 404: NOT_FOUND, 409: REFUSED_CHANGE}
    if invalid:
        responses[400] = INVALID
    return extend_schema(
        summary=summary, description=description, request=request, responses=responses
    )


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("List alerts"),
        responses={200: AlertSerializer(many=True), 400: INVALID, 403: FORBIDDEN},
    ),
    retrieve=extend_schema(
        summary=gettext_lazy("Get an alert"),
        responses={200: AlertSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class AlertViewSet(CustomerScopedMixin, viewsets.ReadOnlyModelViewSet):
    """A key scoped to a customer sees that customer's alerts only (not the
    company-wide ones, which name no customer)."""

    customer_path = "customer"
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    pagination_class = CursorPagination
    cursor_ordering = ("-id",)  # newest first
    queryset = Alert.objects.none()

    def get_queryset(self):
        return alert_list()

    def _answer(self, alert: Alert) -> Response:
        return Response(AlertSerializer(alert_list().get(pk=alert.pk)).data)

    def _one(self, alert: Alert):
        return Alert.objects.filter(pk=alert.pk)

    @_move_schema(
        gettext_lazy("Acknowledge an alert: the caller takes it over"),
        gettext_lazy(
            "An open or snoozed alert becomes acknowledged, with the caller as its "
            "owner. 409 when it is acknowledged or resolved already."
        ),
    )
    @action(detail=True, methods=["post"], permission_classes=[CanMoveAlert])
    def acknowledge(self, request, pk=None):
        alert = self.get_object()
        if not alerts_acknowledge(self._one(alert), by=request.user):
            raise _refused(alert, _("acknowledged"))
        return self._answer(alert)

    @_move_schema(
        gettext_lazy("Resolve an alert: it was dealt with"),
        gettext_lazy("409 when it is resolved already."),
    )
    @action(detail=True, methods=["post"], permission_classes=[CanMoveAlert])
    def resolve(self, request, pk=None):
        alert = self.get_object()
        if not alerts_close(self._one(alert)):
            raise _refused(alert, _("resolved"))
        return self._answer(alert)

    @_move_schema(
        gettext_lazy("Hand an alert to a staff user (or to no one)"),
        gettext_lazy(
            "Its status stays. 409 when it is resolved; handing it to its owner "
            "changes nothing and answers 200."
        ),
        request=AlertAssignSerializer,
        invalid=True,
    )
    @action(detail=True, methods=["post"], permission_classes=[CanMoveAlert])
    def assign(self, request, pk=None):
        owner = _validated(AlertAssignSerializer, request)["owner"]
        alert = self.get_object()
        if alert.status not in OPEN_STATUSES:
            raise _refused(alert, _("assigned"))
        try:
            alerts_assign(self._one(alert), owner=owner)
        except BusinessError as exc:
            raise _on_field("owner", exc) from exc
        return self._answer(alert)

    @_move_schema(
        gettext_lazy("Snooze an alert until a later day"),
        gettext_lazy(
            "It stays open (a rule finding the same problem adds nothing) and wakes up "
            "open on that day. 409 when it is resolved."
        ),
        request=AlertSnoozeSerializer,
        invalid=True,
    )
    @action(detail=True, methods=["post"], permission_classes=[CanMoveAlert])
    def snooze(self, request, pk=None):
        until = _validated(AlertSnoozeSerializer, request)["until"]
        alert = self.get_object()
        try:
            moved = alerts_snooze(self._one(alert), until=until, by=request.user)
        except BusinessError as exc:
            raise _on_field("until", exc) from exc
        if not moved:
            raise _refused(alert, _("snoozed"))
        return self._answer(alert)
