"""STUB, to be rewired by the lead: the outbox's `notifications.services.outbox.outbox_report_ready`
(not on this branch yet) writes the e-mail with the report attached to the release's
stakeholders. The report service calls this function when a report asked for with
`email_stakeholders` is done, inside the transaction that marks it done."""

from __future__ import annotations

from typing import Any


def outbox_report_ready(*, report: Any) -> None:
    """Placeholder: does nothing until the outbox lands (replace the call in
    notifications/services/reports.py with notifications.services.outbox.outbox_report_ready)."""
    return None
