"""The app as gunicorn serves it, plus the bench's bare view (tests/bench/urls.py)."""

from django.conf import settings
from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
settings.ROOT_URLCONF = "tests.bench.urls"
