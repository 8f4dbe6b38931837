from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("", views.index, name="index"),
    path("give/", views.give, name="give"),
    path("survey/", views.survey, name="survey"),
]
