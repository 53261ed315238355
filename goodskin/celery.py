"""The Celery app: worker and beat for the clinic's messages.

Redis (REDIS_URL) is the broker in tests and production; with nothing set, a folder-based
broker lets `make run` work with no server. Redis is only a wake-up bell: reminders live in the
database (see DESIGN.md), so nothing here is scheduled far ahead.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goodskin.settings")

app = Celery("goodskin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
