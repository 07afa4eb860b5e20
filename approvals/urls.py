from django.urls import path

from . import api
from .views import delegations, items, signoffs

api_urlpatterns = [
    path("releases/<int:pk>/items/", api.ReleaseItemListView.as_view(), name="api-release-items"),
    path("items/<int:pk>/", api.ItemDetailView.as_view(), name="api-item"),
    path("items/<int:pk>/signoffs/", api.ItemSignOffView.as_view(), name="api-item-signoffs"),
    path("signoffs/<int:pk>/revoke/", api.SignOffRevokeView.as_view(), name="api-signoff-revoke"),
    path("delegations/", api.DelegationListView.as_view(), name="api-delegations"),
    path("delegations/<int:pk>/", api.DelegationDetailView.as_view(), name="api-delegation"),
]

web_urlpatterns = [
    path("items/<int:pk>/", items.placeholder, name="item-detail"),
    path("signoffs/", signoffs.placeholder, name="signoff-queue"),
    # delegations
    path("delegations/", delegations.delegation_list, name="delegations"),
    path("delegations/<int:pk>/cancel/", delegations.delegation_cancel_view, name="delegation-cancel"),
]
