"""REST API for checklist items, sign-offs and delegations."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checklists.models import Category
from config.api import (
    LIST,
    READ,
    WRITE,
    AwareDateTimeField,
    RoleField,
    StrictBooleanFilter,
    UserRefField,
    VisibleListView,
    errors,
)
from config.fastread import FastRead
from releases.permissions import access_release

from . import selectors, services
from .models import ChecklistItem, Delegation, SignOff
from .permissions import access_delegation, access_item, access_signoff


class SignOffSerializer(FastRead, serializers.ModelSerializer):
    """Reads a sign-off annotated by approvals.selectors.signoffs_with_status."""

    approver = serializers.IntegerField(source="approver_id", help_text="The approver of record.")
    approver_username = serializers.CharField()
    signed_by = serializers.IntegerField(source="signed_by_id", help_text="Who signed (a delegate, or the approver).")
    signed_by_username = serializers.CharField()
    on_behalf = serializers.SerializerMethodField(help_text="Signed by a delegate on the approver's behalf.")
    role = serializers.CharField(source="role_name")
    stale = serializers.BooleanField(
        help_text="Given before the item last changed: an approval before a change of status, evidence or text; "
        "a rejection before the item was done again. Stale sign-offs stay visible and don't count."
    )
    revoked = serializers.BooleanField()
    counts = serializers.BooleanField(
        source="counts_now",
        help_text="Counts now: an approval towards the quorum (not revoked, not stale, not by the item's assignee "
        "or whoever completed it unless the release relaxes that); a rejection stands.",
    )

    class Meta:
        model = SignOff
        fields = [
            "id", "item", "approver", "approver_username", "signed_by", "signed_by_username", "on_behalf", "role",
            "decision", "comment", "created_at", "stale", "revoked", "counts", "revoked_at", "revoked_reason",
            "self_signoff_relaxed",
        ]  # fmt: skip
        read_only_fields = fields

    def get_on_behalf(self, obj: SignOff) -> bool:
        return obj.approver_id != obj.signed_by_id


class ItemSerializer(FastRead, serializers.ModelSerializer):
    """Reads an item from approvals.selectors.checklist_items: its stored status, and the
    names and overdue flag annotated there."""

    approver_role = serializers.CharField(source="approver_role_name", allow_null=True)
    assignee_username = serializers.CharField(allow_null=True)
    valid_approvals = serializers.IntegerField(help_text="Distinct approvers whose approval counts now.")
    has_rejection = serializers.BooleanField(help_text="A rejection stands until the item is done again.")
    is_signed = serializers.BooleanField()
    is_ready = serializers.BooleanField(help_text="Done (or not applicable) and signed off.")
    overdue = serializers.BooleanField(help_text="Due date passed and not done (or not applicable).")
    evidence_url = serializers.CharField(help_text="A link to the evidence, or empty.")
    source_slug = serializers.CharField(help_text="The template the item came from; empty for an ad-hoc item.")
    source_key = serializers.CharField(help_text="The item's key in that template; empty for an ad-hoc item.")
    signoffs = SignOffSerializer(source="signoff_list", many=True)

    class Meta:
        model = ChecklistItem
        fields = [
            "id", "release", "section", "order", "title", "guidance", "category", "required", "approver_role",
            "required_signoffs", "evidence_required", "condition_flag", "state", "assignee", "assignee_username",
            "evidence_url", "note", "justification", "blocked_reason", "due_at", "due_offset_days", "overdue",
            "completed_by", "completed_at", "revision", "is_adhoc", "source_slug", "source_key",
            "valid_approvals", "has_rejection", "is_signed", "is_ready", "signoffs", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ItemUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, required=False)
    guidance = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    required = serializers.BooleanField(required=False)
    approver_role = RoleField(required=False, allow_null=True)
    required_signoffs = serializers.IntegerField(min_value=0, max_value=20, required=False)
    evidence_required = serializers.BooleanField(required=False)
    state = serializers.ChoiceField(choices=ChecklistItem.State.choices, required=False)
    assignee = UserRefField(required=False, allow_null=True)
    evidence_url = serializers.URLField(max_length=1000, required=False, allow_blank=True)
    note = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    justification = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    blocked_reason = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    due_at = AwareDateTimeField(required=False, allow_null=True)


class ItemCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    section = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    guidance = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")
    category = serializers.ChoiceField(choices=Category.choices, default=Category.OTHER)
    required = serializers.BooleanField(default=True)
    approver_role = RoleField(required=False, allow_null=True, default=None)
    required_signoffs = serializers.IntegerField(min_value=0, max_value=20, required=False, allow_null=True)
    evidence_required = serializers.BooleanField(default=False)
    due_at = AwareDateTimeField(required=False, allow_null=True, default=None)
    assignee = UserRefField(required=False, allow_null=True, default=None)


class SignOffCreateSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=SignOff.Decision.choices)
    comment = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")
    on_behalf_of = UserRefField(
        required=False, allow_null=True, default=None, help_text="Sign as the delegate of this approver."
    )


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=10000)


class DelegationSerializer(FastRead, serializers.ModelSerializer):
    delegator = serializers.IntegerField(source="delegator_id")
    delegate = serializers.IntegerField(source="delegate_id")
    delegate_username = serializers.CharField()
    role = serializers.CharField(source="role_name")
    active = serializers.BooleanField(help_text="In force now: started, not ended, not cancelled.")

    class Meta:
        model = Delegation
        fields = [
            "id", "delegator", "delegate", "delegate_username", "role", "starts_at", "ends_at", "created_at",
            "cancelled_at", "active",
        ]  # fmt: skip
        read_only_fields = fields


class DelegationCreateSerializer(serializers.Serializer):
    delegate = UserRefField()
    role = RoleField()
    starts_at = AwareDateTimeField()
    ends_at = AwareDateTimeField()


# --- items ---------------------------------------------------------------------------------


def _item(request: Request, pk: int) -> ChecklistItem:
    return access_item(request.user, pk, queryset=selectors.checklist_items().select_related("release"))


class ItemFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=ChecklistItem.State.choices)
    category = django_filters.ChoiceFilter(choices=Category.choices)
    assignee = django_filters.NumberFilter(field_name="assignee_id")
    approver_role = django_filters.CharFilter(field_name="approver_role__name", max_length=150)
    overdue = StrictBooleanFilter(method="filter_overdue")

    class Meta:
        model = ChecklistItem
        fields = ["state", "category", "assignee", "approver_role", "overdue"]

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(overdue=value)


class ReleaseItemListView(VisibleListView):
    queryset = ChecklistItem.objects.none()
    serializer_class = ItemSerializer
    filterset_class = ItemFilter

    def visible(self) -> QuerySet[ChecklistItem]:
        release = access_release(self.request.user, self.kwargs["pk"])
        return selectors.checklist_for_release(release.pk, signoffs=False)

    def paginate_queryset(self, queryset: QuerySet[ChecklistItem]) -> list[ChecklistItem] | None:
        page = super().paginate_queryset(queryset)
        return None if page is None else selectors.with_signoffs(list(page))

    @extend_schema(responses={200: ItemSerializer(many=True), **errors(*LIST)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=ItemCreateSerializer, responses={201: ItemSerializer, **errors(*WRITE)})
    def post(self, request: Request, pk: int) -> Response:
        release = access_release(request.user, pk)
        data = ItemCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.item_create(release=release, actor=request.user, **data.validated_data)
        return Response(ItemSerializer(_item(request, item.pk)).data, status=status.HTTP_201_CREATED)


class ItemDetailView(APIView):
    @extend_schema(responses={200: ItemSerializer, **errors(*READ)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(ItemSerializer(_item(request, pk)).data)

    @extend_schema(request=ItemUpdateSerializer, responses={200: ItemSerializer, **errors(*WRITE)})
    def patch(self, request: Request, pk: int) -> Response:
        item = _item(request, pk)
        data = ItemUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.item_update(item=item, actor=request.user, **data.validated_data)
        return Response(ItemSerializer(_item(request, pk)).data)


class ItemSignOffView(APIView):
    @extend_schema(request=SignOffCreateSerializer, responses={201: SignOffSerializer, **errors(*WRITE)})
    def post(self, request: Request, pk: int) -> Response:
        item = _item(request, pk)
        data = SignOffCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signoff = services.signoff_grant(item=item, actor=request.user, **data.validated_data)
        return Response(SignOffSerializer(selectors.signoff_get(signoff.pk)).data, status=status.HTTP_201_CREATED)


class SignOffRevokeView(APIView):
    @extend_schema(request=RevokeSerializer, responses={200: SignOffSerializer, **errors(*WRITE)})
    def post(self, request: Request, pk: int) -> Response:
        signoff = access_signoff(request.user, pk)
        data = RevokeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.signoff_revoke(signoff=signoff, actor=request.user, reason=data.validated_data["reason"])
        return Response(SignOffSerializer(selectors.signoff_get(signoff.pk)).data)


# --- delegations ---------------------------------------------------------------------------


class DelegationListView(VisibleListView):
    queryset = Delegation.objects.none()
    serializer_class = DelegationSerializer

    def visible(self) -> QuerySet[Delegation]:
        return selectors.delegations_for(self.request.user).order_by("-starts_at", "id")

    @extend_schema(responses={200: DelegationSerializer(many=True), **errors(*LIST)})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=DelegationCreateSerializer, responses={201: DelegationSerializer, **errors(400, 401, 403)})
    def post(self, request: Request) -> Response:
        data = DelegationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        delegation = services.delegation_create(actor=request.user, **data.validated_data)
        created = selectors.delegations_for(request.user).get(pk=delegation.pk)
        return Response(DelegationSerializer(created).data, status=status.HTTP_201_CREATED)


class DelegationDetailView(APIView):
    @extend_schema(responses={204: None, **errors(401, 403, 404)})
    def delete(self, request: Request, pk: int) -> Response:
        delegation = access_delegation(request.user, pk)
        services.delegation_cancel(delegation=delegation, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
