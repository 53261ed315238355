"""The bad-input tests walk every app's pages: they stand on the scheduling tests' clinic
calendar and the treatments tests' screened patient with a plan."""

from tests.scheduling.conftest import hours, now, office
from tests.treatments.conftest import plan, record

__all__ = ["hours", "now", "office", "plan", "record"]
