"""Logging filters (loaded by the LOGGING setting, before the apps: no model imports here)."""

from __future__ import annotations

import logging


class ForbiddenInALine(logging.Filter):
    """Django logs every 403 (PermissionDenied) with its traceback, and the API's and the
    pages' 403s are answers to people asking for what they may not do, not faults: a line
    each is enough. Other records, 500s above all, keep their tracebacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
