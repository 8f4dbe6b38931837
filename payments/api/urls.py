from rest_framework.routers import SimpleRouter

from .mandates import MandateViewSet
from .views import PaymentAttemptViewSet, RefundViewSet
from .write_offs import WriteOffRequestViewSet

router = SimpleRouter()
router.register("payment-attempts", PaymentAttemptViewSet, basename="payment-attempt")
router.register("refunds", RefundViewSet, basename="refund")
router.register("write-offs", WriteOffRequestViewSet, basename="write-off")
router.register("mandates", MandateViewSet, basename="mandate")

urlpatterns = router.urls
