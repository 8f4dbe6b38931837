"""The risk rules over the API: everyone with the view permission reads them; a
finance manager (change permission) sets a rule's thresholds, through the same
audited service as the admin."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.response import Response

from ..models import RiskRule
from ..rules import RULES
from ..services import RULE_FIELDS, risk_rule_update
from .serializers import RiskRuleSerializer


@extend_schema_view(
    partial_update=extend_schema(
        summary=_("Change a risk rule's settings"),
        responses={
            200: RiskRuleSerializer,
            400: OpenApiResponse(description=_("Invalid settings: a message per field.")),
        },
    )
)
class RiskRuleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = RiskRuleSerializer
    lookup_field = "code"
    pagination_class = None  # a dozen rules
    http_method_names = ["get", "patch", "head", "options"]
    queryset = RiskRule.objects.none()

    def get_queryset(self):
        return RiskRule.objects.filter(code__in=list(RULES)).select_related("updated_by")

    def partial_update(self, request, *args, **kwargs):
        rule = self.get_object()
        serializer = self.get_serializer(rule, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        values = {k: v for k, v in serializer.validated_data.items() if k in RULE_FIELDS}
        saved = risk_rule_update(rule=rule, by=request.user, **values)
        return Response(self.get_serializer(saved).data)
