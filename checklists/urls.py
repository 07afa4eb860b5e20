from django.urls import path

from . import api, views

api_urlpatterns = [
    path("templates/", api.TemplateListView.as_view(), name="api-templates"),
    path("templates/import/", api.TemplateImportView.as_view(), name="api-template-import"),
    path("templates/<int:pk>/", api.TemplateDetailView.as_view(), name="api-template"),
    path("templates/<int:pk>/export/", api.TemplateExportView.as_view(), name="api-template-export"),
]

web_urlpatterns = [
    path("templates/", views.placeholder, name="template-list"),
    path("templates/<int:pk>/", views.placeholder, name="template-detail"),
]
