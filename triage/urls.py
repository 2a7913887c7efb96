from django.urls import path

from . import views

app_name = "triage"

urlpatterns = [
    path("", views.pathway_list, name="list"),
    path("<slug:slug>/", views.pathway, name="pathway"),
]
