from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ReleasesConfig(AppConfig):
    name = "releases"
    verbose_name = "Releases"

    def ready(self) -> None:
        from . import permissions

        post_migrate.connect(permissions.forget_permission_ids, dispatch_uid="releases.forget_permission_ids")
