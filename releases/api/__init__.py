"""REST API for projects, releases, phases, transitions, freeze windows and the audit trail:
`serializers` (shapes) and `views`."""

from .views import (
    FreezeWindowDetailView,
    FreezeWindowListView,
    PhaseTransitionView,
    ProjectDetailView,
    ProjectListView,
    ProjectMemberDetailView,
    ProjectMemberListView,
    ReleaseAuditView,
    ReleaseDetailView,
    ReleaseListView,
    ReleasePhaseListView,
    ReleaseTemplateUpgradeView,
    ReleaseTransitionView,
)

__all__ = [
    "FreezeWindowDetailView",
    "FreezeWindowListView",
    "PhaseTransitionView",
    "ProjectDetailView",
    "ProjectListView",
    "ProjectMemberDetailView",
    "ProjectMemberListView",
    "ReleaseAuditView",
    "ReleaseDetailView",
    "ReleaseListView",
    "ReleasePhaseListView",
    "ReleaseTemplateUpgradeView",
    "ReleaseTransitionView",
]
