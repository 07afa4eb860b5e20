"""Every write to a release's checklist, by feature: `checklist` (items from templates,
conditional items, due dates), `upgrade` (a newer template version), `items`, `signoffs`,
`delegations`, and `status` (keeping each item's sign-off status and the release's
readiness stored). Locking: a write locks the release row first, then the item row."""

from .checklist import checklist_apply_template, checklist_sync_flags, items_recompute_due
from .comments import comment_create
from .delegations import delegation_cancel, delegation_create
from .items import AUDITED_FIELDS, item_create, item_update
from .signoffs import signoff_grant, signoff_refusal, signoff_revoke
from .status import checklist_refresh
from .upgrade import release_template_upgrade

__all__ = [
    "AUDITED_FIELDS",
    "checklist_apply_template",
    "checklist_refresh",
    "checklist_sync_flags",
    "comment_create",
    "delegation_cancel",
    "delegation_create",
    "item_create",
    "item_update",
    "items_recompute_due",
    "release_template_upgrade",
    "signoff_grant",
    "signoff_refusal",
    "signoff_revoke",
]
