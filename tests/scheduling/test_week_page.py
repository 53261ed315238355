"""The week view's table kept whole under one fingerprint (scheduling.week_page): every row the
table is written from is in the fingerprint, so any change shows on the next page, whoever wrote
it; a kept table is the table written afresh; its audit entry lists the appointments it shows
(issue 19)."""

from datetime import timedelta

import pytest
from django.urls import reverse

from patients.models import AuditEntry
from scheduling import week_page
from scheduling.models import Appointment, ClosedDay, Location, Status
from tests.conftest import written_afresh
from tests.factories import PatientFactory

from .conftest import MONDAY, TZ
from .test_card_cache import CHANGES, changes, normalised, visit
from .test_day_page import OTHER_ROWS, _room

pytestmark = pytest.mark.django_db
committing = pytest.mark.django_db(transaction=True)  # as production runs

SUNDAY = MONDAY + timedelta(days=6)
# What the week shows of its days: a room's name is not among it.
WEEK_ROWS = [change for change in OTHER_ROWS if change is not _room]


def fingerprint(monday=MONDAY, location=None) -> str:
    return week_page.fingerprint(monday, TZ, location)


@pytest.mark.parametrize("change", [c for c in CHANGES if c != "rename_room"])
def test_every_change_to_what_a_cell_reads_changes_the_weeks_fingerprint(
    change, hours, doctor, other_doctor
):
    first = visit(hours, doctor, 9)
    visit(hours, doctor, 10)
    before = fingerprint()
    assert fingerprint() == before
    changes(hours, doctor, other_doctor)[change](first)
    assert fingerprint() != before


@pytest.mark.parametrize("change", WEEK_ROWS, ids=lambda f: f.__name__.strip("_"))
def test_every_other_row_the_table_reads_changes_its_fingerprint(change, hours, doctor):
    before = fingerprint()
    change(hours, doctor)
    assert fingerprint() != before


def test_a_change_outside_the_week_or_to_a_cancelled_visit_keeps_the_fingerprint(hours, doctor):
    visit(hours, doctor, 9)
    cancelled = visit(hours, doctor, 10, status=Status.CANCELLED)
    before = fingerprint()
    ClosedDay.objects.create(day=SUNDAY + timedelta(days=1), reason="Holiday")
    ClosedDay.objects.create(day=MONDAY - timedelta(days=1), reason="Holiday")
    Appointment.objects.filter(pk=cancelled.pk).update(notes="Still cancelled")
    PatientFactory()
    assert fingerprint() == before
    ClosedDay.objects.create(day=SUNDAY, reason="Holiday")
    assert fingerprint() != before


def week_html(client, **params) -> str:
    response = client.get(reverse("scheduling:week"), {"date": MONDAY.isoformat(), **params})
    return response.content.decode()


@pytest.mark.parametrize("office_chosen", [False, True])
def test_a_kept_table_is_the_table_written_afresh(
    client, now, hours, doctor, front_desk, office_chosen
):
    params = {}
    if office_chosen:
        Location.objects.create(name="Second office", time_zone=TZ.key)
        params = {"location": str(hours.pk)}
    visit(hours, doctor, 9, patient=PatientFactory(legal_last_name="O'Brien <b>"))
    visit(hours, doctor, 10, status=Status.CHECKED_IN)
    visit(hours, doctor, 11, status=Status.CANCELLED)
    ClosedDay.objects.create(day=MONDAY + timedelta(days=2), reason="Staff training")
    client.force_login(front_desk)
    written, kept = week_html(client, **params), week_html(client, **params)
    with written_afresh():
        afresh = week_html(client, **params)
    assert "O&#x27;Brien &lt;b&gt;" in kept and "Staff training" in kept
    assert normalised(written) == normalised(kept) == normalised(afresh)
    if office_chosen:
        assert f"&amp;location={hours.pk}" in kept


def test_the_audit_entry_of_a_kept_table_lists_its_appointments(
    client, now, hours, doctor, front_desk
):
    shown = [visit(hours, doctor, 9).pk, visit(hours, doctor, 10).pk]
    visit(hours, doctor, 11, status=Status.CANCELLED)
    client.force_login(front_desk)
    week_html(client)
    week_html(client)
    entries = AuditEntry.objects.filter(subject=f"week view {MONDAY.isoformat()}")
    assert [sorted(e.details["appointments"]) for e in entries] == [shown, shown]


@committing
@pytest.mark.parametrize("change", WEEK_ROWS, ids=lambda f: f.__name__.strip("_"))
def test_a_change_to_any_row_shows_on_the_next_page(change, client, now, hours, doctor, front_desk):
    """Committed, as production runs: the page after the change is the page written afresh."""
    visit(hours, doctor, 9)
    client.force_login(front_desk)
    week_html(client)
    change(hours, doctor)
    client.force_login(front_desk)
    page = week_html(client)
    with written_afresh():
        assert normalised(page) == normalised(week_html(client))


def test_a_week_kept_before_it_came_marks_today_on_the_day(client, hours, doctor, front_desk):
    import time_machine

    from .conftest import at

    visit(hours, doctor, 9)
    with time_machine.travel(at(MONDAY, 7) - timedelta(days=1), tick=False):
        client.force_login(front_desk)
        assert "gs-today" not in week_html(client)
    with time_machine.travel(at(MONDAY, 7), tick=False):
        client.force_login(front_desk)
        assert week_html(client).count('class="gs-today"') == 1
