"""The export tests build a whole record: the clinic calendar of the scheduling tests (an
Oregon office, a doctor working weekdays, the clock on a Monday morning) and a second doctor
who co-signs."""

from tests.scheduling.conftest import hours, now, office
from tests.treatments.conftest import other_doctor

__all__ = ["hours", "now", "office", "other_doctor"]
