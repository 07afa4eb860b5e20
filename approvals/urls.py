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
    path("items/<int:pk>/", items.item_detail, name="item-detail"),
    path("items/<int:pk>/panel/", items.item_panel, name="item-panel"),
    path("items/<int:pk>/work/", items.item_work, name="item-work"),
    path("items/<int:pk>/assign/", items.item_manage, name="item-manage"),
    path("items/<int:pk>/comments/", items.item_comment, name="item-comment"),
    path("items/<int:pk>/signoffs/", items.item_signoff, name="item-signoff"),
    path("items/<int:pk>/evidence/", items.evidence_download, name="item-evidence"),
    path("signoffs/<int:pk>/revoke/", items.signoff_revoke, name="signoff-revoke"),
    path("signoffs/", signoffs.signoff_queue_page, name="signoff-queue"),
    # delegations
    path("delegations/", delegations.delegation_list, name="delegations"),
    path("delegations/<int:pk>/cancel/", delegations.delegation_cancel_view, name="delegation-cancel"),
]
