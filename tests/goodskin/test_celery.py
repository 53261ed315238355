import os
import subprocess
import sys
import time
import uuid

from django.conf import settings

from goodskin import celery_app
from tests.helpers import ROOT


def test_it_uses_redis_as_the_broker():
    assert celery_app.conf.broker_url == settings.REDIS_URL


def test_it_starts_a_worker_that_answers_on_the_real_broker():
    name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "goodskin",
            "worker",
            "--pool",
            "solo",
            "--hostname",
            name,
            "--loglevel",
            "WARNING",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "goodskin.settings_test"},
    )
    try:
        replies = []
        deadline = time.monotonic() + 30
        while not replies and time.monotonic() < deadline:
            replies = celery_app.control.ping(destination=[name], timeout=1)
        assert replies == [{name: {"ok": "pong"}}]
    finally:
        worker.terminate()
        worker.wait(timeout=30)
