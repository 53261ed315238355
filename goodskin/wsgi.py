"""WSGI entry point (gunicorn goodskin.wsgi)."""

import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goodskin.settings")

application = get_wsgi_application()

# Load every view now rather than on a worker's first request, which would otherwise spend up
# to a second importing them (and /healthz must answer within 2 s).
import_module(settings.ROOT_URLCONF)
