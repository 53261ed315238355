"""The portal's move page looks for times in two steps (services.patient_move_options): the first
two weeks, then the rest of the four only when they hold too few days to show. The times
offered are the same as one search of the whole range gives, whatever the doctor's week and
wherever the search's limit falls."""

from datetime import timedelta

import pytest

from scheduling import services
from scheduling.models import Kind, WorkingHours
from scheduling.services import patient_changes
from scheduling.slots import free_slots
from tests.factories import PatientFactory, screen

from .conftest import MONDAY, at, desk_actor, three_sessions

pytestmark = pytest.mark.django_db
FRIDAY = 4


@pytest.fixture(autouse=True)
def _worked_out_each_time(card_cache_paused):
    """These compare ways of working the times out: none is kept (free_times_cache)."""


@pytest.fixture
def visit(now, hours, front_desk, doctor):
    patient = PatientFactory()
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    return services.book_appointment(
        patient=patient,
        doctor=doctor,
        starts_at=at(MONDAY + timedelta(days=4), 10),
        by=desk_actor(front_desk),
        kind=Kind.REVIEW,
    )


def offered(visit, monkeypatch, *, looks_at: int | None = None, limit: int = 500) -> list:
    """The times offered, the free times the searches found and how many searches there were
    (one look of the whole range when `looks_at` is None)."""
    searches = []

    def search(**kw):
        searches.append(found := free_slots(**kw))
        return found

    monkeypatch.setattr(patient_changes, "free_slots", search)
    monkeypatch.setattr(patient_changes, "SEARCH_LIMIT", limit)
    monkeypatch.setattr(patient_changes, "FIRST_LOOK_DAYS", looks_at or 1000)
    times = [(s.starts_at, s.room.pk) for s in patient_changes.patient_move_options(visit)]
    monkeypatch.undo()
    return times, sum(map(len, searches)), len(searches)


@pytest.mark.parametrize(
    ("fridays_only", "limit", "searches"),
    [
        (False, 500, 1),  # ten days with times in the first two weeks: one look
        (True, 500, 2),  # two Fridays in two weeks: the rest is read too
        (False, 30, 1),  # the limit reached in the first look: no second
        (True, 100, 2),  # the second look takes what the first left of the limit
    ],
)
def test_the_times_offered_are_those_of_one_search_of_the_whole_range(
    visit, doctor, monkeypatch, fridays_only, limit, searches
):
    if fridays_only:
        WorkingHours.objects.filter(doctor=doctor).exclude(weekday=FRIDAY).delete()
    whole, found, one = offered(visit, monkeypatch, limit=limit)
    looked, _found, looks = offered(
        visit, monkeypatch, looks_at=patient_changes.FIRST_LOOK_DAYS, limit=limit
    )
    assert one == 1 and looks == searches
    assert looked == whole and whole
    if limit < 500:  # the whole range's search is cut by the limit
        assert found == limit


def test_a_session_kept_off_the_rest_of_the_range_by_its_interval_looks_once(
    now, hours, front_desk, doctor, monkeypatch
):
    """The middle of three sessions five weeks apart may move only within its interval to
    both others: the days after the first look are all refused, so they are not read."""
    patient = PatientFactory()
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    _first, second, _third = three_sessions(patient, doctor, front_desk)
    whole, _found, _one = offered(second, monkeypatch)
    looked, _found, looks = offered(second, monkeypatch, looks_at=patient_changes.FIRST_LOOK_DAYS)
    assert looks == 1
    assert looked == whole and whole
