from django.urls import path

from . import views

urlpatterns = [
    path("medications/", views.MedicationList.as_view(), name="medication-list"),
    path("medications/<slug:slug>/", views.MedicationDetail.as_view(), name="medication-detail"),
    path("symptoms/", views.SymptomList.as_view(), name="symptom-list"),
    path("symptoms/<slug:slug>/", views.SymptomDetail.as_view(), name="symptom-detail"),
    path("articles/", views.ArticleList.as_view(), name="article-list"),
    path("articles/<slug:slug>/", views.ArticleDetail.as_view(), name="article-detail"),
    path("articles/<slug:slug>/jsonld/", views.ArticleJsonLd.as_view(), name="article-jsonld"),
    path("articles/<slug:slug>/revisions/", views.ArticleRevisionList.as_view(), name="article-revision-list"),
    path(
        "articles/<slug:slug>/revisions/<int:number>/",
        views.ArticleRevisionDetail.as_view(),
        name="article-revision-detail",
    ),
    path("changes/", views.ChangeFeed.as_view(), name="change-feed"),
    path("lookup/", views.CodeLookup.as_view(), name="code-lookup"),
]
