"""WSGI entry point (gunicorn goodskin.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goodskin.settings")

application = get_wsgi_application()
