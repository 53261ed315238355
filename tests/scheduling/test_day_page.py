"""The day view's columns and closed days kept whole under one fingerprint (scheduling.day_page):
every row the page is written from is in the fingerprint, so any change shows on the next page,
whoever wrote it; a kept page is the page written afresh, with each request's own address and
form token in it; and its audit entry still lists the appointments it shows (issue 19)."""

from datetime import time, timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from goodskin.roles import GROUP_NAMES, Role
from patients.models import AuditEntry
from scheduling import day_page
from scheduling.models import Appointment, ClosedDay, Location, Room, Status, WorkingHours
from tests.conftest import written_afresh
from tests.factories import PatientFactory, UserFactory

from .conftest import MONDAY, TZ
from .test_card_cache import CHANGES, changes, normalised, visit

pytestmark = pytest.mark.django_db
committing = pytest.mark.django_db(transaction=True)  # as production runs


def fingerprint(day=MONDAY, location=None) -> str:
    return day_page.fingerprint(day, TZ, location)


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_to_what_a_card_reads_changes_the_days_fingerprint(
    change, hours, doctor, other_doctor
):
    first = visit(hours, doctor, 9)
    visit(hours, doctor, 10)
    before = fingerprint()
    assert fingerprint() == before
    changes(hours, doctor, other_doctor)[change](first)
    assert fingerprint() != before


def _doctor_joins(office, doctor):
    UserFactory(username="dr.new", role=Role.DOCTOR)


def _doctor_leaves(office, doctor):
    doctor.groups.remove(Group.objects.get(name=GROUP_NAMES[Role.DOCTOR]))


def _idle_doctor_renamed(office, doctor):
    doctor.last_name = "Renamed"  # no appointment on the day: only the column shows the name
    doctor.save(update_fields=["last_name"])


def _hours(office, doctor):
    WorkingHours.objects.filter(doctor=doctor, weekday=MONDAY.weekday()).update(ends=time(12))


def _room(office, doctor):
    Room.objects.filter(location=office, name="Room 2").update(name="Blue room")


def _office(office, doctor):
    Location.objects.filter(pk=office.pk).update(name="Renamed office")


def _closed(office, doctor):
    ClosedDay.objects.create(day=MONDAY, location=office, reason="Floor works")


def _clinic_closed(office, doctor):
    ClosedDay.objects.create(day=MONDAY, reason="Holiday")


OTHER_ROWS = [
    _doctor_joins,
    _doctor_leaves,
    _idle_doctor_renamed,
    _hours,
    _room,
    _office,
    _closed,
    _clinic_closed,
]


@pytest.mark.parametrize("change", OTHER_ROWS, ids=lambda f: f.__name__.strip("_"))
def test_every_other_row_the_page_reads_changes_its_fingerprint(change, hours, doctor):
    before = fingerprint()
    change(hours, doctor)
    assert fingerprint() != before


def test_a_change_on_another_day_keeps_the_fingerprint(hours, doctor):
    tuesday = MONDAY + timedelta(days=1)
    visit(hours, doctor, 9)
    before = fingerprint()
    ClosedDay.objects.create(day=tuesday, reason="Holiday")
    other = visit(hours, doctor, 10)
    assert fingerprint() != before
    Appointment.objects.filter(pk=other.pk).update(
        starts_at=other.starts_at + timedelta(days=1), ends_at=other.ends_at + timedelta(days=1)
    )
    assert fingerprint() == before  # moved to Tuesday: Monday is as it was
    Appointment.objects.filter(pk=other.pk).update(notes="Tuesday's visit")
    PatientFactory()
    assert fingerprint() == before


def day_page_html(client, **params) -> str:
    return client.get(
        reverse("scheduling:day"), {"date": MONDAY.isoformat(), **params}
    ).content.decode()


def a_busy_monday(hours, doctor):
    visit(hours, doctor, 9, notes="Bring the hose <now> & later")
    visit(hours, doctor, 10, status=Status.CHECKED_IN)
    visit(hours, doctor, 11, status=Status.CANCELLED, late_cancel=True)
    ClosedDay.objects.create(day=MONDAY, location=hours, reason="Afternoon only")


@pytest.mark.parametrize("params", [{}, {"by": "room"}, {"location": "office"}])
def test_a_kept_page_is_the_page_written_afresh(client, now, hours, doctor, front_desk, params):
    if params.get("location"):
        Location.objects.create(name="Second office", time_zone=TZ.key)
        params = {"location": str(hours.pk)}
    a_busy_monday(hours, doctor)
    client.force_login(front_desk)
    written = day_page_html(client, **params)
    kept = day_page_html(client, **params)
    with written_afresh():
        afresh = day_page_html(client, **params)
    assert "Bring the hose &lt;now&gt; &amp; later" in kept and "Afternoon only" in kept
    assert normalised(written) == normalised(kept) == normalised(afresh)


def test_each_request_puts_its_own_address_and_form_token_in_a_kept_page(
    client, now, hours, doctor, front_desk
):
    """The second address is kept under the first one's entry (the same day and options):
    its forms come back to it, and post with a token this client's cookie accepts."""
    from django.test import Client

    first = visit(hours, doctor, 9)
    desk = Client(enforce_csrf_checks=True)
    desk.force_login(front_desk)
    day_page_html(desk)
    page = day_page_html(desk, shown="again")
    here = f"{reverse('scheduling:day')}?date={MONDAY.isoformat()}&amp;shown=again"
    assert f'name="next" value="{here}"' in page
    assert "\x00" not in page
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = desk.post(
        reverse("scheduling:status", args=[first.pk]),
        {"csrfmiddlewaretoken": token, "status": Status.CHECKED_IN, "version": first.version},
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == Status.CHECKED_IN


def test_the_audit_entry_of_a_kept_page_lists_its_appointments(
    client, now, hours, doctor, front_desk
):
    shown = [visit(hours, doctor, 9).pk, visit(hours, doctor, 10).pk]
    client.force_login(front_desk)
    day_page_html(client)
    day_page_html(client)
    entries = AuditEntry.objects.filter(subject=f"day view {MONDAY.isoformat()}")
    assert [sorted(e.details["appointments"]) for e in entries] == [shown, shown]


@committing
@pytest.mark.parametrize("change", OTHER_ROWS, ids=lambda f: f.__name__.strip("_"))
def test_a_change_to_any_row_shows_on_the_next_page(change, client, now, hours, doctor, front_desk):
    """Committed, as production runs: the page after the change is the page written afresh."""
    visit(hours, doctor, 9)
    client.force_login(front_desk)
    day_page_html(client, by="room")
    day_page_html(client)
    change(hours, doctor)
    client.force_login(front_desk)  # a doctor's change of group logs nobody out
    for params in ({}, {"by": "room"}):
        page = day_page_html(client, **params)
        with written_afresh():
            assert normalised(page) == normalised(day_page_html(client, **params))
