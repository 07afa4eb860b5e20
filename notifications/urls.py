from django.urls import path

from . import views

web_urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/token/", views.token_issue, name="profile-token"),
]
