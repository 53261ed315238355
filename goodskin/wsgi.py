"""WSGI entry point (gunicorn goodskin.wsgi)."""

import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goodskin.settings")

django_application = get_wsgi_application()

from goodskin import health  # noqa: E402 - once Django is set up


def application(environ, start_response):
    """Django, except for a load balancer's /healthz probe, answered before the middleware
    (health.wsgi_answer): 2 ms of a worker through Django, most of it middleware it needs
    none of (README, "Benchmarks")."""
    if environ.get("PATH_INFO") == "/healthz":
        return health.wsgi_answer(environ, start_response)
    return django_application(environ, start_response)


# Load every view now rather than on a worker's first request, which would otherwise spend up
# to a second importing them (and /healthz must answer within 2 s).
import_module(settings.ROOT_URLCONF)
