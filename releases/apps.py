import gc

from django.apps import AppConfig
from django.db.models.signals import post_migrate


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
