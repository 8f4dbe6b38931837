"""What finance staff do to a charge collection could not settle, over the API:
retry it now, or cancel it with a reason (``payments.services.staff``, as the
charge admin's actions do). Both need ``billing.change_charge``."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from billing import selectors as billing_selectors
from billing.api.serializers import ChargeSerializer
from payments.api.common import FORBIDDEN, INVALID, NOT_FOUND, REFUSED_CHANGE, CanChange
from payments.api.common import validated as _validated
from payments.services.staff import charge_cancel, charge_retry_now
from payments.tasks import collect_charge_task


class ChargeCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=200, help_text=_("Why the charge is no longer owed (kept in its history).")
    )


class ChargeActionsMixin:
    """``retry/`` and ``cancel/`` on the charge viewset (scoped like its details)."""

    def _charge_answer(self, charge_id: int, code: int = status.HTTP_200_OK) -> Response:
        charge = billing_selectors.charge_list().get(pk=charge_id)
        return Response(ChargeSerializer(charge).data, status=code)

    @extend_schema(
        summary=_("Collect a failed or overdue charge now"),
        description=_(
            "The charge becomes due for collection today and is handed to a worker, "
            "which tries it through its payment method at once (202: the answer is "
            "the charge before that try; read it or its payment attempts for the "
            "outcome). 409 when the charge is paid, cancelled or written off, or a "
            "payment of it has an unknown outcome."
        ),
        request=None,
        responses={
            202: ChargeSerializer,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: REFUSED_CHANGE,
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[CanChange])
    def retry(self, request, pk=None):
        with transaction.atomic():
            charge = charge_retry_now(charge=self.get_object())
            charge_id = charge.pk
            transaction.on_commit(lambda: collect_charge_task.delay(charge_id, True))
        return self._charge_answer(charge_id, status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary=_("Cancel a charge: it is no longer owed"),
        description=_(
            "What the prepaid balance paid of it goes back there, a payment notice or "
            "QR code still out is withdrawn, and the receivable is reversed; the "
            "reason is kept in the charge's history. 409 when the charge is paid, "
            "cancelled or written off, part of it was collected (refund that first), "
            "or a payment of it has an unknown outcome."
        ),
        request=ChargeCancelSerializer,
        responses={
            200: ChargeSerializer,
            400: INVALID,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: REFUSED_CHANGE,
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[CanChange])
    def cancel(self, request, pk=None):
        reason = _validated(ChargeCancelSerializer, request)["reason"]
        charge = charge_cancel(charge=self.get_object(), reason=reason)
        return self._charge_answer(charge.pk)
