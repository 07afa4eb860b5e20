"""Celery entry points of the notifications app, a module per feature; each is imported here
so that Celery's autodiscovery (which imports `notifications.tasks`) registers them."""
