from rest_framework.routers import SimpleRouter

from .views import RiskRuleViewSet

router = SimpleRouter()
router.register("risk-rules", RiskRuleViewSet, basename="risk-rule")

urlpatterns = router.urls
