"""Settings for pytest: the machine's real PostgreSQL and Redis, unless the environment says
otherwise. Everything else is the production settings module, so tests see what runs."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/goodskin")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SECRET_KEY", "test-only-" + "k3y-for-pytest-runs-never-deployed-" * 2)
# Tests talk to the test client over plain HTTP.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("STATIC_MANIFEST", "false")
# The browser tests run on plain http://127.0.0.1.
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")

from .settings import *  # noqa: F403

# No collectstatic in tests: whitenoise serves the packages' files straight from the finders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Tests log staff in with force_login and no second step; the two-step login tests (and the
# walk of every page, tests/goodskin/test_two_factor.py) turn it on for themselves.
TWO_FACTOR_ROLES: list[str] = []
