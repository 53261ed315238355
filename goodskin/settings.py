"""Settings for Goodskin Clinic, read from the environment.

With nothing set the app runs on an embedded default (SQLite and a folder-based Celery broker) so
that `make run` works on a fresh machine; tests and production set DATABASE_URL and REDIS_URL.
With DEBUG off (production) a real SECRET_KEY is required.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
# Where `make run` keeps its folder broker and beat schedule (a test may point it elsewhere).
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

# A key that only a developer's machine may use; production must bring its own.
_DEV_SECRET_KEY = "insecure-dev-only-goodskin-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (
    len(SECRET_KEY) < 50 or SECRET_KEY.startswith("insecure") or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a long random value when DEBUG is off "
        "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Its trigram lookups (the patient search that forgives a typo); nothing on SQLite.
    "django.contrib.postgres",
    "bootstrap",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "phonenumber_field",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "goodskin",
    "patients",
    "messaging",
    "treatments",
    "scheduling",
    "portal",
    "reports",
]

# Django's database sessions, read through a prepared statement (goodskin.sessions).
SESSION_ENGINE = "goodskin.sessions"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A NUL in the path or a parameter answers 400 before any view can pass it to PostgreSQL.
    "goodskin.middleware.RefuseNulMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages go out gzipped (the day view: 69 KB, about 5 KB compressed). Below WhiteNoise,
    # which sends the static files' own compressed copies; above everything that writes the
    # body. BREACH: Django pads each compressed page with 0-99 random bytes (its gzip header's
    # file name) and masks the CSRF token afresh in every response (README, "Benchmarks").
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the chooser's cookie, else the browser's Accept-Language, else English
    # (no prefix in the paths: links in sent emails and calendar apps point at them).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A logged-in patient sees the portal in the language kept on their record.
    "goodskin.language.PatientLanguageMiddleware",
    # request.user.is_verified(): has this session passed its second step (two-step login)?
    "goodskin.middleware.OTPMiddleware",
    # Every page needs a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "goodskin.middleware.ClinicTimezoneMiddleware",
    "goodskin.middleware.SessionLimitsMiddleware",
    # A session that still owes its second step reaches only the pages that take it.
    "goodskin.middleware.TwoFactorMiddleware",
    # Turns a locked-out login into the "too many attempts" page; last, as axes asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "goodskin.urls"
WSGI_APPLICATION = "goodskin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "goodskin.context_processors.navigation",
                "goodskin.context_processors.session_limits",
                "goodskin.context_processors.choices",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# Embedded default: SQLite in WAL mode with IMMEDIATE transactions, so the web process and the
# Celery worker can write without "database is locked" surprises.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # A new PostgreSQL connection per request cost ~40 % of a page's throughput (DESIGN.md).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # The clinic's database fits in memory, so random reads cost about what sequential ones do.
    # With PostgreSQL's default of 4 the planner scans the whole patient table for a name
    # fragment instead of using the trigram index (bench/patient_search.py: 23 ms vs 8 ms).
    # The pages' fingerprint queries are the only prepared statements (goodskin.row_versions.
    # prepared_row), each written so that one plan serves every day and patient: planned once
    # per connection, not at each page (the day view's: 2.4 ms a page, 1.5 prepared once).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c random_page_cost={env.float('PG_RANDOM_PAGE_COST', default=1.1)}"
        " -c plan_cache_mode=force_generic_plan"
    )
    # Without it a server that accepts but never answers holds a connecting worker forever.
    # libpq counts whole seconds and waits at least 2 (0 would mean forever).
    _db_connect_timeout = env.int("DB_CONNECT_TIMEOUT", default=5)
    if _db_connect_timeout < 2:
        raise ImproperlyConfigured("DB_CONNECT_TIMEOUT must be a number of seconds, at least 2.")
    DATABASES["default"]["OPTIONS"]["connect_timeout"] = _db_connect_timeout

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A hung Redis must not hold a page: give up and carry on without the cache.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(VAR_DIR / "celery-control"),
    }
    # The transport expects its folders to exist; web, worker and beat may start in any order.
    for _folder in (_broker_dir, VAR_DIR / "celery-control"):
        _folder.mkdir(parents=True, exist_ok=True)

# Reminder batches wait in a queue of their own (workers listen to both): the dispatcher
# counts what already waits there before adding more, so a worker back after an hour's outage
# doesn't find sixty minutes of duplicate batches, and the dispatcher's own task never waits
# behind thousands of them.
# Each queue has its own routing key (left out, both would be bound to the exchange under the
# default key "celery", and anything published to the exchange with it would reach both).
CELERY_TASK_QUEUES = (
    Queue("celery", routing_key="celery"),
    Queue("message-batches", routing_key="message-batches"),
)
CELERY_TASK_ROUTES = {"messaging.tasks.send_message_batch": {"queue": "message-batches"}}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A Redis blip must not cancel the batches being sent (Celery 6 will by default): each would
# leave its rows waiting out their lease, and possibly double the message in flight.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# The one beat schedule, in code: the message dispatcher and the touch-up sweep wake every
# minute. (Tests shorten the minute with REMINDER_DISPATCH_SECONDS rather than wait.)
CELERY_BEAT_SCHEDULE = {
    "dispatch-messages": {
        "task": "messaging.tasks.dispatch_messages",
        "schedule": env.float("REMINDER_DISPATCH_SECONDS", default=60.0),
    },
    "invite-to-touch-ups": {
        "task": "scheduling.tasks.invite_to_touch_ups",
        "schedule": env.float("REMINDER_DISPATCH_SECONDS", default=60.0),
    },
    "offer-freed-times": {
        "task": "scheduling.tasks.offer_freed_times",
        "schedule": env.float("REMINDER_DISPATCH_SECONDS", default=60.0),
    },
    "forget-unconfirmed-online-requests": {
        "task": "scheduling.tasks.forget_unconfirmed_online_requests",
        "schedule": 3600.0,
    },
}

# --- Authentication ---------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "goodskin.auth.MaximumLengthValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses a login that is locked out before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "goodskin.auth.UsernameOrEmailBackend",
]
LOGIN_URL = reverse_lazy("login")
LOGIN_REDIRECT_URL = reverse_lazy("home")
LOGOUT_REDIRECT_URL = reverse_lazy("login")
# Password guessing: after LOGIN_FAILURE_LIMIT wrong passwords for one username from one
# address, that pair waits LOGIN_LOCKOUT_MINUTES. Per pair, not per address, so one person's
# typos never lock out a whole front desk behind the clinic's router.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Spraying (a few guesses at many names) and guessing one name from many addresses: in the
# same LOGIN_LOCKOUT_MINUTES, this many wrong passwords from one address, or for one name,
# pause that address or that name (goodskin.auth.throttled).
LOGIN_ADDRESS_LIMIT = env.int("LOGIN_ADDRESS_LIMIT", default=15)
LOGIN_ACCOUNT_LIMIT = env.int("LOGIN_ACCOUNT_LIMIT", default=10)
AXES_LOCKOUT_CALLABLE = "goodskin.auth.locked_out"
AXES_CLIENT_IP_CALLABLE = "goodskin.actors.client_ip"
AXES_USERNAME_CALLABLE = "goodskin.auth.login_name"
# Two-step login (goodskin.two_factor): the roles that must use it (admin, doctor, front_desk,
# patient); a patient may turn it on for their own account whatever this says.
TWO_FACTOR_ROLES = [
    role for role in env.list("TWO_FACTOR_ROLES", default=["admin", "doctor", "front_desk"]) if role
]
# The name an authenticator app shows beside the account.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Goodskin Clinic")
PATIENT_IDLE_MINUTES = env.int("PATIENT_IDLE_MINUTES", default=30)
# Staff leave screens on at the desk: their sessions end sooner without activity.
STAFF_IDLE_MINUTES = env.int("STAFF_IDLE_MINUTES", default=15)
# Every session ends this long after login, active or not.
SESSION_MAX_HOURS = env.int("SESSION_MAX_HOURS", default=12)
# The page warns this long before its session ends, with a button to stay logged in.
SESSION_WARNING_SECONDS = 60
PORTAL_INVITATION_DAYS = env.int("PORTAL_INVITATION_DAYS", default=7)
# Minutes a patient may undo a cancellation made online (while the time is still free); the
# message that tells of the cancellation waits as long.
CANCEL_UNDO_MINUTES = env.int("CANCEL_UNDO_MINUTES", default=5)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 24)
# Reset links asked for in an hour: per account (more are silently not sent) and per address.
PASSWORD_RESET_PER_ACCOUNT = env.int("PASSWORD_RESET_PER_ACCOUNT", default=3)
PASSWORD_RESET_PER_ADDRESS = env.int("PASSWORD_RESET_PER_ADDRESS", default=10)
# Online consultation requests by new patients: per network address in an hour (more answer
# "too many requests"), and per email or phone in a day (more are silently not kept).
ONLINE_BOOKING_PER_ADDRESS = env.int("ONLINE_BOOKING_PER_ADDRESS", default=5)
ONLINE_BOOKING_PER_CONTACT = env.int("ONLINE_BOOKING_PER_CONTACT", default=3)

# The safety check-in (issue 16): "how are your legs?" this many days after each session, at
# the clinic's aftercare hour; the link lasts SAFETY_CHECK_IN_VALID_DAYS from then; a check-in
# with no answer after SAFETY_CHECK_IN_NO_ANSWER_HOURS is listed for the front desk to call.
SAFETY_CHECK_IN_DAYS = env.list("SAFETY_CHECK_IN_DAYS", cast=int, default=[1, 7])
SAFETY_CHECK_IN_VALID_DAYS = env.int("SAFETY_CHECK_IN_VALID_DAYS", default=7)
SAFETY_CHECK_IN_NO_ANSWER_HOURS = env.int("SAFETY_CHECK_IN_NO_ANSWER_HOURS", default=48)

# --- Internationalisation and time ------------------------------------------------------------
LANGUAGE_CODE = "en-us"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
# The chooser's cookie outlives a session: a visitor who chose Spanish keeps it after logout.
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SECURE = env.bool("LANGUAGE_COOKIE_SECURE", default=not DEBUG)
LANGUAGE_COOKIE_SAMESITE = "Lax"
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# Times are stored in UTC (the database connection's zone stays UTC) and shown and entered in
# the clinic's zone (the Oregon office). The clinic's zone is also the default current zone, so
# "today" means the clinic's day everywhere: in a request, a Celery task, a command or a test.
# (It once was UTC outside requests, and between 4 pm and midnight in Oregon a task or a test
# took tomorrow for today.)
CLINIC_TIME_ZONE = env.str("CLINIC_TIME_ZONE", default="America/Los_Angeles")
TIME_ZONE = CLINIC_TIME_ZONE
CLINIC_NAME = env.str("CLINIC_NAME", default="Goodskin Clinic")

# --- Static files -----------------------------------------------------------------------------
# Bootstrap and htmx come from Python packages and are served by the app (whitenoise): no CDN.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
_manifest = env.bool("STATIC_MANIFEST", default=not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if _manifest
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

PHONENUMBER_DEFAULT_REGION = env.str("PHONE_REGION", default="US")
PHONENUMBER_DB_FORMAT = "E164"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email ------------------------------------------------------------------------------------
# EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.org:587; printed to the console if unset.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Goodskin Clinic <clinic@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# Links in emails (unsubscribe) point here; Message-IDs of reminders use this domain.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
MESSAGE_ID_DOMAIN = env.str("MESSAGE_ID_DOMAIN", default="goodskin.clinic")
SMS_BACKEND = env.str("SMS_BACKEND", default="messaging.sms.ConsoleBackend")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(VAR_DIR / "sms" / "messages.jsonl"))
# Twilio (SMS_BACKEND=messaging.sms.TwilioBackend): the account, and who the texts come from
# (a number of the account, or a Messaging Service that picks one). TWILIO_API_URL is for
# tests, which point it at a stand-in; the timeout keeps a hung provider from holding a batch.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM = env.str("TWILIO_FROM", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_API_URL = env.str("TWILIO_API_URL", default="https://api.twilio.com")
TWILIO_TIMEOUT = env.float("TWILIO_TIMEOUT", default=10.0)
_twilio_missing = [
    name
    for name, value in (
        ("TWILIO_ACCOUNT_SID", TWILIO_ACCOUNT_SID),
        ("TWILIO_AUTH_TOKEN", TWILIO_AUTH_TOKEN),
        (
            "TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID",
            TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID,
        ),
    )
    if not value
]
if SMS_BACKEND == "messaging.sms.TwilioBackend" and _twilio_missing:
    raise ImproperlyConfigured(
        f"SMS_BACKEND is Twilio: set {', '.join(_twilio_missing)} (README, Configuration)."
    )
ADMINS = [("Clinic administrator", a) for a in env.list("ADMIN_EMAILS", default=[])]
# `make backup` writes its pg_dump files here (README, "Backups").
BACKUP_DIR = Path(env.str("BACKUP_DIR", default=str(VAR_DIR / "backups")))

# --- Security ---------------------------------------------------------------------------------
# Secure by default whenever DEBUG is off; each can be turned off for a plain-HTTP test host.
_secure = not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_secure)
# The load balancer probes /healthz over plain HTTP inside the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=_secure)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=_secure)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365 if _secure else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=_secure)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=_secure)
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy: scripts, styles, fonts and requests from this site only, and no
# inline script or style at all, so injected markup can't run or restyle anything. Bootstrap's
# form controls draw their arrows and ticks from data: images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # WeasyPrint logs every page of every record PDF it lays out at INFO.
        "weasyprint.progress": {"level": "WARNING"},
        # Twilio's client logs every request's query (patients' phone numbers) at INFO.
        "twilio.http_client": {"level": "WARNING"},
    },
}

# --- The waitlist (scheduling.services.waitlist) ----------------------------------------------
# A freed time is offered to this many waiting patients at once (1: one at a time, in order).
WAITLIST_OFFERS_AT_ONCE = env.int("WAITLIST_OFFERS_AT_ONCE", default=1)
# An offer not answered in this many hours lapses, and the next patient is asked.
WAITLIST_OFFER_HOURS = env.int("WAITLIST_OFFER_HOURS", default=2)
# No time is offered that starts sooner than this many hours from now.
WAITLIST_NOTICE_HOURS = env.int("WAITLIST_NOTICE_HOURS", default=3)
# Offers go out only from/until these clinic-local hours (no text in the night).
WAITLIST_OFFER_FROM_HOUR = env.int("WAITLIST_OFFER_FROM_HOUR", default=8)
WAITLIST_OFFER_UNTIL_HOUR = env.int("WAITLIST_OFFER_UNTIL_HOUR", default=20)
