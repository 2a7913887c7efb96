from django.urls import path

from . import views

app_name = "articles"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("medicines/<slug:slug>/", views.medicine, name="medicine"),
    path("symptoms/<slug:slug>/", views.symptom, name="symptom"),
    path("articles/<slug:slug>/", views.article_detail, name="detail"),
    path("articles/<slug:slug>/history/", views.article_history, name="history"),
    path("feeds/changes.atom", views.changes_feed, name="changes-feed"),
]
