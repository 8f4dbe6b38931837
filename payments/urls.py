from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    path("notify/<slug:method>/", views.gateway_notification, name="notify"),
]
