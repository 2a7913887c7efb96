from django.urls import path

from . import views

urlpatterns = [
    path("pathways/", views.PathwayList.as_view(), name="pathway-list"),
    path("pathways/<slug:slug>/", views.PathwayDetail.as_view(), name="pathway-detail"),
    path("pathways/<slug:slug>/evaluate/", views.PathwayEvaluate.as_view(), name="pathway-evaluate"),
]
