"""Direct-debit mandates: typed in from the signed form as staff do in the admin
(``mandate_save``), and revoked when the customer withdraws the authorisation
(``mandates_revoke``)."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from feemgmt.api.pagination import CursorPagination
from feemgmt.api.scoping import CustomerScopedMixin
from feemgmt.core.exceptions import BusinessError, InvalidTransition
from feemgmt.core.money import Money

from ..choices import MandateStatus
from ..models import Mandate
from ..services.mandates import mandate_save, mandates_revoke
from .common import FORBIDDEN, INVALID, NOT_FOUND, REFUSED_CHANGE, CanChange, validated
from .filters import MandateFilter
from .serializers import MandateSerializer, MandateWriteSerializer


def _active_exists() -> BusinessError:
    return BusinessError(
        {"customer": [_("This customer has an active mandate already: revoke it first.")]}
    )


def _has_active(customer) -> bool:
    return Mandate.objects.filter(customer=customer, status=MandateStatus.ACTIVE).exists()


def _refused_insert(mandate: Mandate) -> BusinessError:
    """What the database refused when another request saved first."""
    if _has_active(mandate.customer):
        return _active_exists()
    return BusinessError({"reference": [_("A mandate with this reference exists already.")]})


def _mandate_from(data: dict) -> Mandate:
    """The mandate as typed in, checked by the model (IBAN, BIC, dates, unique
    reference) as the admin's form checks it; refusals are 400s per field."""
    customer = data["customer"]
    limit = data["limit"]
    mandate = Mandate(
        customer=customer,
        reference=data["reference"],
        signed_on=data["signed_on"],
        debtor_name=data["debtor_name"],
        debtor_iban=data["debtor_iban"],
        debtor_bic=data["debtor_bic"],
        limit=None if limit is None else Money(limit, customer.currency),
        valid_until=data["valid_until"],
    )
    if _has_active(customer):
        raise _active_exists()
    try:
        # the customer was checked by the serializer, and its one active mandate just
        # above and by the database on insert (a constraint error here would name no
        # field)
        mandate.full_clean(exclude=["customer"])
    except ValidationError as exc:
        errors = dict(exc.message_dict)
        if NON_FIELD_ERRORS in errors:
            errors[api_settings.NON_FIELD_ERRORS_KEY] = errors.pop(NON_FIELD_ERRORS)
        raise BusinessError(errors) from exc
    return mandate


@extend_schema_view(
    list=extend_schema(
        summary=gettext_lazy("List mandates"),
        description=gettext_lazy("Newest first, with filters by customer, status and reference."),
        responses={200: MandateSerializer(many=True), 400: INVALID, 403: FORBIDDEN},
    ),
    retrieve=extend_schema(
        summary=gettext_lazy("Get a mandate"),
        responses={200: MandateSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary=gettext_lazy("Record a customer's signed direct-debit mandate"),
        description=gettext_lazy(
            "The mandate is active from its signing day; a customer has one active "
            "mandate at a time (revoke the old one first). The IBAN and BIC are checked "
            "and stored compact; the answer shows the IBAN masked."
        ),
        request=MandateWriteSerializer,
        responses={201: MandateSerializer, 400: INVALID, 403: FORBIDDEN},
    ),
)
class MandateViewSet(
    CustomerScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    customer_path = "customer"
    serializer_class = MandateSerializer
    filterset_class = MandateFilter
    pagination_class = CursorPagination
    cursor_ordering = ("-id",)  # newest first
    queryset = Mandate.objects.none()

    def get_queryset(self):
        return Mandate.objects.all()

    def create(self, request, *args, **kwargs):
        mandate = _mandate_from(validated(MandateWriteSerializer, request))
        try:
            mandate = mandate_save(mandate=mandate)
        except IntegrityError as exc:  # another request saved first
            raise _refused_insert(mandate) from exc
        return Response(MandateSerializer(mandate).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=gettext_lazy("Revoke a mandate: nothing more is debited under it"),
        description=gettext_lazy(
            "Debits already sent to the bank in a file are the bank's to answer. 409 "
            "when the mandate was revoked already."
        ),
        request=None,
        responses={200: MandateSerializer, 403: FORBIDDEN, 404: NOT_FOUND, 409: REFUSED_CHANGE},
    )
    @action(detail=True, methods=["post"], permission_classes=[CanChange])
    def revoke(self, request, pk=None):
        mandate = self.get_object()
        if not mandates_revoke(Mandate.objects.filter(pk=mandate.pk)):
            raise InvalidTransition(_("This mandate was revoked already."))
        return Response(MandateSerializer(Mandate.objects.get(pk=mandate.pk)).data)
