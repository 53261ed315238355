"""Is this instance able to serve? For load balancers and monitoring: /healthz."""

from django.conf import settings
from django.db import DatabaseError, connections
from kombu import Connection

BROKER_TIMEOUT_SECONDS = 2


def database_ok() -> bool:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def broker_ok() -> bool:
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            connect_timeout=BROKER_TIMEOUT_SECONDS,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
        return True
    except Exception:  # noqa: BLE001 - any failure to reach the broker means "down"
        return False


def health() -> dict[str, str]:
    return {
        "database": "ok" if database_ok() else "down",
        "broker": "ok" if broker_ok() else "down",
    }
