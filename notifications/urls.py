from django.urls import path

from . import views

web_urlpatterns = [
    path("profile/", views.placeholder, name="profile"),
]
