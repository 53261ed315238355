"""Run manage.py in a child process with a chosen environment (production settings, a database
that is down): settings are read once per process, so these cases need their own."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, env: dict[str, str], timeout: int = 60) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_"))}
    for key in (
        "DEBUG",
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "ALLOWED_HOSTS",
        "STATIC_MANIFEST",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
    ):
        base.pop(key, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "goodskin.settings", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def python(code: str, *, env: dict[str, str], timeout: int = 60) -> subprocess.CompletedProcess:
    """Run `code` after django.setup() in a child process."""
    setup = "import django; django.setup()\n"
    return manage("shell", "--verbosity", "0", "-c", setup + code, env=env, timeout=timeout)
