from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path("", views.index, name="index"),
    path("receipts/<int:charge_id>/", views.receipt, name="receipt"),
    path("statement/", views.statement, name="statement"),
]
