import gc
from typing import Any

from django.apps import AppConfig
from django.core.signals import request_finished
from django.db.models.signals import post_migrate


def freeze_after_first_request(**kwargs: Any) -> None:
    """What the first request loads (the URLconf and the ~400 modules it imports: the API,
    its schema tools, the views; compiled queries) lives as long as the process too: frozen
    like the start-up objects, once. A full collection walked ~60,000 such objects, ~30 ms of
    CPU each time, several times in a long checklist read page by page (make bench)."""
    request_finished.disconnect(freeze_after_first_request, dispatch_uid="releases.freeze_after_first_request")
    gc.collect()  # what is garbage now is not kept for good
    gc.freeze()


class ReleasesConfig(AppConfig):
    name = "releases"
    verbose_name = "Releases"

    def ready(self) -> None:
        from config import sqlcache

        from . import permissions

        post_migrate.connect(permissions.forget_permission_ids, dispatch_uid="releases.forget_permission_ids")
        post_migrate.connect(sqlcache.forget, dispatch_uid="config.sqlcache.forget")
        # What is loaded at start-up lives as long as the process: kept out of the garbage
        # collector's full collections, which otherwise walk it each time (~100,000 objects;
        # reading a long checklist page by page met collections of 50-100 ms, make bench).
        gc.freeze()
        request_finished.connect(freeze_after_first_request, dispatch_uid="releases.freeze_after_first_request")
