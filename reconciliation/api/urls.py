from rest_framework.routers import SimpleRouter

from .views import (
    BankAccountViewSet,
    ChargeWithInstructionsViewSet,
    DiscrepancyViewSet,
    MatchViewSet,
    ReconciliationRunViewSet,
    StatementLineViewSet,
    StatementViewSet,
)

router = SimpleRouter()
# The charge endpoints themselves, their detail extended with payment instructions.
router.register("charges", ChargeWithInstructionsViewSet, basename="charge")
router.register("bank-accounts", BankAccountViewSet, basename="bank-account")
router.register("statements", StatementViewSet, basename="statement")
router.register("statement-lines", StatementLineViewSet, basename="statement-line")
router.register("matches", MatchViewSet, basename="match")
router.register("discrepancies", DiscrepancyViewSet, basename="discrepancy")
router.register("reconciliation-runs", ReconciliationRunViewSet, basename="reconciliation-run")

urlpatterns = router.urls
