"""Every write to projects, releases, phases and freeze windows, by feature: `projects`,
`releases` (create, change), `transitions` (the state machine; the go/no-go's conditions are
in releases.readiness), `phases`, `freeze_windows`."""

from .freeze_windows import FREEZE_FIELDS, freeze_window_create, freeze_window_delete, freeze_window_update
from .phases import phase_create, phase_transition
from .projects import project_create, project_member_add, project_member_remove, project_update
from .releases import RELEASE_AUDITED, release_create, release_update
from .transitions import TRANSITIONS, release_transition

__all__ = [
    "FREEZE_FIELDS",
    "RELEASE_AUDITED",
    "TRANSITIONS",
    "freeze_window_create",
    "freeze_window_delete",
    "freeze_window_update",
    "phase_create",
    "phase_transition",
    "project_create",
    "project_member_add",
    "project_member_remove",
    "project_update",
    "release_create",
    "release_transition",
    "release_update",
]
