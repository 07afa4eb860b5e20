from django.urls import path

from . import views
from .views.unsubscribe import unsubscribe

web_urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/token/", views.token_issue, name="profile-token"),
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
]
