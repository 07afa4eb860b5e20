from django.urls import path, re_path

from . import views
from .api import me
from .views.unsubscribe import unsubscribe

api_urlpatterns = [
    path("me/", me.MeView.as_view(), name="api-me"),
    path("me/calendar-token/", me.MeCalendarTokenView.as_view(), name="api-me-calendar-token"),
    # Exactly this path, without a trailing slash: calendar applications are given the URL as is.
    re_path(r"^calendar/(?P<token>[A-Za-z0-9_-]{1,64})\.ics$", me.CalendarFeedView.as_view(), name="api-calendar"),
]

web_urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/token/", views.token_issue, name="profile-token"),
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
    path("profile/calendar/", views.calendar_rotate, name="profile-calendar"),
]
