"""The outbox's tests send scheduling's messages about real appointments: they use the
scheduling fixtures (an office with working hours, doctors, the clock)."""

from tests.scheduling.conftest import hours, now, office, other_doctor  # noqa: F401
