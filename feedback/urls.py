from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("<int:revision_id>/", views.ask, name="ask"),
    path("<int:revision_id>/thanks/", views.thanks, name="thanks"),
]
