from django.urls import include, path

from .views import amendments, auth, charges, contracts, mandates, overview, payments

app_name = "portal"

urlpatterns = [
    path("", overview.overview, name="overview"),
    path("login/", auth.login, name="login"),
    path("logout/", auth.logout, name="logout"),
    path("password-reset/", auth.password_reset, name="password_reset"),
    path("password-reset/sent/", auth.password_reset_done, name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("password-reset/done/", auth.password_reset_complete, name="password_reset_complete"),
    path("invitation/<uidb64>/<token>/", auth.invitation, name="invitation"),
    path("contracts/", contracts.contract_index, name="contracts"),
    path("contracts/<int:contract_id>/", contracts.contract_page, name="contract"),
    path("charges/", charges.charge_index, name="charges"),
    path("charges/<int:charge_id>/", charges.charge_page, name="charge"),
    path("charges/<int:charge_id>/pay/", charges.charge_pay, name="charge_pay"),
    path(
        "charges/<int:charge_id>/sandbox-complete/",
        charges.charge_sandbox_complete,
        name="charge_sandbox_complete",
    ),
    path("payments/", payments.payment_index, name="payments"),
    path("mandates/", mandates.mandate_index, name="mandates"),
    path("mandates/<int:mandate_id>/revoke/", mandates.mandate_revoke, name="mandate_revoke"),
    path("amendments/", amendments.amendment_index, name="amendments"),
    path("amendments/<int:amendment_id>/", amendments.amendment_page, name="amendment"),
    path(
        "amendments/<int:amendment_id>/decide/",
        amendments.amendment_decide,
        name="amendment_decide",
    ),
    path("documents/", include("documents.portal_urls")),
    path("feedback/", include("feedback.portal_urls")),
]
