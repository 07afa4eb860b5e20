from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from approvals.urls import api_urlpatterns as approvals_api
from approvals.urls import web_urlpatterns as approvals_web
from checklists.urls import api_urlpatterns as checklists_api
from checklists.urls import web_urlpatterns as checklists_web
from notifications.urls import api_urlpatterns as notifications_api
from notifications.urls import web_urlpatterns as notifications_web
from releases.urls import api_urlpatterns as releases_api
from releases.urls import web_urlpatterns as releases_web

from . import api

api_v1 = [
    path("", api.ApiRootView.as_view(), name="api-root"),
    path("auth/token/", api.TokenView.as_view(), name="api-token"),
    *releases_api,
    *checklists_api,
    *approvals_api,
    *notifications_api,
    re_path(r"^(?P<rest>.*)$", api.api_not_found),
]

urlpatterns = [
    *releases_web,
    *approvals_web,
    *checklists_web,
    *notifications_web,
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api-auth/", include("rest_framework.urls")),
    path("healthz", api.HealthzView.as_view(), name="healthz"),
    path("readyz", api.ReadyzView.as_view(), name="readyz"),
]

handler404 = "config.api.not_found"
