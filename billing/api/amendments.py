"""Fee amendment endpoints (docs/amendments.md): propose, approve, reject,
withdraw, and record the customer's consent (or refusal) signed on paper. The customer consents in
the portal, not here: an integrator cannot consent for a customer."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from contracts.api.serializers import AmountField
from contracts.choices import FeeKind
from contracts.models import Fee
from feemgmt.api.pagination import CursorPagination
from feemgmt.api.permissions import IsStaffWithModelPermissions
from feemgmt.api.scoping import CustomerScopedMixin, CustomerScopedPrimaryKeyRelatedField

from ..models import AmendmentDecision, FeeAmendment
from ..services import amendments as services

RULE_REFUSED = OpenApiResponse(
    description=_("Invalid input, or a business rule refused it: a message per field.")
)
TRANSITION_REFUSED = OpenApiResponse(
    description=_("The fee change's current status does not allow this.")
)
NOT_FOUND = OpenApiResponse(description=_("No such fee change (or not one this key may see)."))


class DecisionSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.get_username", read_only=True)
    has_document = serializers.SerializerMethodField()

    class Meta:
        model = AmendmentDecision
        fields = [
            "consented",
            "channel",
            "user",
            "decided_at",
            "ip",
            "user_agent",
            "text_shown",
            "terms_shown",
            "comment",
            "document_sha256",
            "has_document",
        ]
        read_only_fields = fields

    def get_has_document(self, obj) -> bool:
        return bool(obj.document)


class AmendmentSerializer(serializers.ModelSerializer):
    old_amount = AmountField()
    new_amount = AmountField()
    currency = serializers.CharField(source="new_amount.currency.code", read_only=True)
    proposed_by = serializers.CharField(source="proposed_by.get_username", read_only=True)
    approved_by = serializers.CharField(
        source="approved_by.get_username", read_only=True, allow_null=True
    )
    decision = DecisionSerializer(read_only=True, allow_null=True)

    class Meta:
        model = FeeAmendment
        fields = [
            "id",
            "contract",
            "fee",
            "old_amount",
            "new_amount",
            "currency",
            "effective_from",
            "reason",
            "status",
            "proposed_by",
            "approved_by",
            "approved_at",
            "decided_at",
            "notified_at",
            "created_at",
            "decision",
        ]
        read_only_fields = fields


class AmendmentProposeSerializer(serializers.Serializer):
    fee = CustomerScopedPrimaryKeyRelatedField(
        customer_path="contract__customer",
        queryset=Fee.objects.filter(kind=FeeKind.RECURRING),
        help_text=_("A recurring fee of a signed or active contract."),
    )
    new_amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=0,
        help_text=_('The new amount per full period, e.g. "3300.00".'),
    )
    effective_from = serializers.DateField(
        help_text=_("A future start of one of the fee's periods.")
    )
    reason = serializers.CharField(max_length=2000, help_text=_("Shown to the customer."))


class PaperConsentSerializer(serializers.Serializer):
    document = serializers.FileField(
        help_text=_("The consent the customer signed (PDF, PNG or JPEG, at most 10 MB).")
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class PaperDeclineSerializer(serializers.Serializer):
    document = serializers.FileField(
        required=False, help_text=_("The customer's signed refusal, if there is one.")
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class CanApproveAmendment(IsStaffWithModelPermissions):
    perms_map = {
        **IsStaffWithModelPermissions.perms_map,
        "POST": ["%(app_label)s.approve_%(model_name)s"],
    }


class CanWithdrawAmendment(IsStaffWithModelPermissions):
    perms_map = {
        **IsStaffWithModelPermissions.perms_map,
        "POST": ["%(app_label)s.add_%(model_name)s"],
    }


class CanRecordDecision(IsStaffWithModelPermissions):
    perms_map = {
        **IsStaffWithModelPermissions.perms_map,
        "POST": ["%(app_label)s.record_decision_%(model_name)s"],
    }


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _done(amendment: FeeAmendment, code=status.HTTP_200_OK) -> Response:
    fresh = FeeAmendment.objects.select_related("proposed_by", "approved_by", "decision").get(
        pk=amendment.pk
    )
    return Response(AmendmentSerializer(fresh).data, status=code)


TRANSITION = {200: AmendmentSerializer, 400: RULE_REFUSED, 404: NOT_FOUND, 409: TRANSITION_REFUSED}


@extend_schema_view(
    list=extend_schema(summary=_("List fee changes")),
    retrieve=extend_schema(
        summary=_("Get a fee change"), responses={200: AmendmentSerializer, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary=_("Propose a fee change"),
        description=_(
            "A new amount for a recurring fee of a signed or active contract, from a future "
            "start of one of its periods. It needs the approval of someone other than the "
            "proposer, then the customer's consent (in the portal, or on paper recorded with "
            "`consent`); without consent by the effective date it lapses."
        ),
        request=AmendmentProposeSerializer,
        responses={201: AmendmentSerializer, 400: RULE_REFUSED},
    ),
)
class AmendmentViewSet(
    CustomerScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    customer_path = "contract__customer"
    serializer_class = AmendmentSerializer
    filterset_fields = ["contract", "fee", "status"]
    pagination_class = CursorPagination
    cursor_ordering = ("-id",)
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return FeeAmendment.objects.select_related("proposed_by", "approved_by", "decision")

    def create(self, request, *args, **kwargs):
        data = _validated(AmendmentProposeSerializer, request)
        amendment = services.amendment_propose(by=request.user, **data)
        return _done(amendment, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Approve a fee change and send it to the customer"),
        request=None,
        responses=TRANSITION,
    )
    @action(detail=True, methods=["post"], permission_classes=[CanApproveAmendment])
    def approve(self, request, pk=None):
        return _done(services.amendment_approve(amendment=self.get_object(), by=request.user))

    @extend_schema(summary=_("Reject a proposed fee change"), request=None, responses=TRANSITION)
    @action(detail=True, methods=["post"], permission_classes=[CanApproveAmendment])
    def reject(self, request, pk=None):
        return _done(services.amendment_reject(amendment=self.get_object(), by=request.user))

    @extend_schema(
        summary=_("Withdraw a fee change not yet decided"), request=None, responses=TRANSITION
    )
    @action(detail=True, methods=["post"], permission_classes=[CanWithdrawAmendment])
    def withdraw(self, request, pk=None):
        return _done(services.amendment_withdraw(amendment=self.get_object(), by=request.user))

    @extend_schema(
        summary=_("Record the customer's consent signed on paper"),
        description=_(
            "multipart/form-data with the signed `document`: the change takes effect from its "
            "effective date. (A customer consents in the portal themselves.)"
        ),
        request={"multipart/form-data": PaperConsentSerializer},
        responses=TRANSITION,
    )
    @action(detail=True, methods=["post"], permission_classes=[CanRecordDecision])
    def consent(self, request, pk=None):
        return self._paper(request, PaperConsentSerializer, consented=True)

    @extend_schema(
        summary=_("Record that the customer declined on paper"),
        description=_("The current fee stays."),
        request={"multipart/form-data": PaperDeclineSerializer},
        responses=TRANSITION,
    )
    @action(detail=True, methods=["post"], permission_classes=[CanRecordDecision])
    def decline(self, request, pk=None):
        return self._paper(request, PaperDeclineSerializer, consented=False)

    def _paper(self, request, serializer_class, *, consented: bool) -> Response:
        amendment = self.get_object()
        data = _validated(serializer_class, request)
        return _done(
            services.amendment_record_paper(
                amendment=amendment, by=request.user, consented=consented, **data
            )
        )
