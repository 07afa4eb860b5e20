from django.urls import path

from . import api, views

api_urlpatterns = [
    path("templates/", api.TemplateListView.as_view(), name="api-templates"),
    path("templates/import/", api.TemplateImportView.as_view(), name="api-template-import"),
    path("templates/<int:pk>/", api.TemplateDetailView.as_view(), name="api-template"),
    path("templates/<int:pk>/export/", api.TemplateExportView.as_view(), name="api-template-export"),
]

web_urlpatterns = [
    path("templates/", views.template_list, name="template-list"),
    path("templates/new/", views.template_new, name="template-new"),
    path("templates/import/", views.template_import, name="template-import"),
    path("templates/<int:pk>/", views.template_detail, name="template-detail"),
    path("templates/<int:pk>/edit/", views.template_edit, name="template-edit"),
    path("templates/<int:pk>/export/", views.template_export, name="template-export"),
    path("templates/<int:pk>/diff/", views.template_diff, name="template-diff"),
]
