"""The portal's pages stand on the other apps' data: the clinic calendar of the scheduling
tests (an Oregon office, a doctor working weekdays, the clock on a Monday morning) and the
screened patient with a plan of the treatments tests."""

from tests.scheduling.conftest import hours, now, office
from tests.treatments.conftest import other_doctor, plan, record

__all__ = ["hours", "now", "office", "other_doctor", "plan", "record"]
