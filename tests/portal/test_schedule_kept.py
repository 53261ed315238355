"""The patient's home page kept under a fingerprint of every row it shows
(portal.schedule_panel): each change to one of them shows on the next page, whoever made it
and however, exactly as the page written afresh shows it; with nothing changed it is not
written again; the clock moving a visit into the past or a day on, and a cancellation the
patient may undo, show at once."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from portal import schedule_panel
from scheduling import services
from scheduling.models import Appointment, Kind, Location, SchedulingSettings, Status
from tests.conftest import CACHE_DOWN, written_afresh
from tests.factories import PatientFactory, screen
from tests.scheduling.conftest import MONDAY, at, desk_actor
from tests.treatments.conftest import area, chart_session, make_plan
from treatments.models import (
    AftercareStep,
    Anchor,
    ClinicSettings,
    PlanStatus,
    SessionChart,
    TreatedArea,
    TreatmentPlan,
)

SCHEDULE = reverse("portal:schedule")
# As production runs: each write committed before the next page.
committing = pytest.mark.django_db(transaction=True)


@pytest.fixture
def home(now, hours, front_desk, doctor, patient):
    """A patient five days after their first session of four, their next visit booked for
    Thursday at ten."""
    me = PatientFactory(portal_user=patient, legal_first_name="Rosa", consent_email=True)
    screen(me, sclerosant_allergy="no", untreated_varicose="no")
    plan = make_plan(me, doctor, sessions=4)
    with time_machine.travel(at(MONDAY - timedelta(days=5), 7), tick=False):
        first = book(front_desk, me, doctor, at(MONDAY - timedelta(days=5), 9), plan=plan)
    Appointment.objects.filter(pk=first.pk).update(status=Status.COMPLETED)
    chart_session(plan, doctor, treated_on=MONDAY - timedelta(days=5))
    coming = book(front_desk, me, doctor, at(MONDAY + timedelta(days=3), 10), kind=Kind.REVIEW)
    return me, plan, coming


def book(front_desk, patient, doctor, starts_at, *, plan=None, kind=Kind.SESSION):
    extra = {"plan": plan, "session_number": 1} if plan else {}
    return services.book_appointment(
        patient=patient,
        doctor=doctor,
        starts_at=starts_at,
        by=desk_actor(front_desk),
        kind=kind,
        **extra,
    )


def page(client) -> tuple[str, str]:
    response = client.get(SCHEDULE)
    assert response.status_code == 200
    return str(response.context["greeting"]), str(response.context["rest"])


def page_afresh(client) -> tuple[str, str]:
    with written_afresh():
        return page(client)


def changes(me, plan, coming, doctor, hours, front_desk):
    """Each a change to one thing the page shows, made the way some write path might."""

    def renamed():
        me.preferred_name = "Rosie"
        me.save(update_fields=["preferred_name"])

    def booked():
        book(front_desk, me, doctor, at(MONDAY + timedelta(days=4), 11), kind=Kind.REVIEW)

    def cancelled_by_the_clinic():
        Appointment.objects.filter(pk=coming.pk).update(status=Status.CANCELLED)

    def moved():
        Appointment.objects.filter(pk=coming.pk).update(
            starts_at=coming.starts_at + timedelta(hours=2),
            ends_at=coming.ends_at + timedelta(hours=2),
        )

    def doctor_renamed():
        doctor.last_name = "Renamed"
        doctor.save(update_fields=["last_name"])

    def office_moved():
        Location.objects.filter(pk=hours.pk).update(address="9 New Rd, Salem OR")

    def notice_changed():
        SchedulingSettings.objects.update(patient_notice_hours=72)

    def hose_days_changed():
        TreatmentPlan.objects.filter(pk=plan.pk).update(hose_days=21)

    def plan_stopped():
        TreatmentPlan.objects.filter(pk=plan.pk).update(
            status=PlanStatus.STOPPED, stop_reason="Moved away"
        )

    def session_charted():
        chart_session(plan, doctor, treated_on=MONDAY - timedelta(days=1))

    def chart_redated():
        SessionChart.objects.filter(plan=plan).update(treated_on=MONDAY - timedelta(days=6))

    def area_changed():
        TreatedArea.objects.filter(chart__plan=plan).update(region="L-foot")

    def area_added():
        chart = SessionChart.objects.get(plan=plan)
        TreatedArea.objects.create(chart=chart, **area("L-foot"))

    def warning_signs_rewritten():
        ClinicSettings.objects.update(warning_signs="Call us at once if your leg hurts.")

    def aftercare_step_added():
        AftercareStep.objects.create(
            key="walk",
            order=99,
            title="Take a walk",
            anchor=Anchor.SESSION,
            offset_days=1,
            email_subject="A walk",
            email_body="Walk for half an hour today.",
            sms_text="Walk for half an hour today.",
        )

    return {
        f.__name__: f
        for f in (
            renamed,
            booked,
            cancelled_by_the_clinic,
            moved,
            doctor_renamed,
            office_moved,
            notice_changed,
            hose_days_changed,
            plan_stopped,
            session_charted,
            chart_redated,
            area_changed,
            area_added,
            warning_signs_rewritten,
            aftercare_step_added,
        )
    }


CHANGES = [
    "renamed",
    "booked",
    "cancelled_by_the_clinic",
    "moved",
    "doctor_renamed",
    "office_moved",
    "notice_changed",
    "hose_days_changed",
    "plan_stopped",
    "session_charted",
    "chart_redated",
    "area_changed",
    "area_added",
    "warning_signs_rewritten",
    "aftercare_step_added",
]


@committing
@pytest.mark.parametrize("change", CHANGES)
def test_every_change_to_what_the_page_shows_shows_on_the_next_page(
    client, home, doctor, hours, front_desk, patient, change
):
    me, plan, coming = home
    client.force_login(patient)
    before = page(client)
    assert page(client) == before  # kept
    changes(me, plan, coming, doctor, hours, front_desk)[change]()
    after = page(client)
    assert after != before
    assert after == page_afresh(client)


def test_the_page_is_written_once_while_nothing_changes(client, home, patient, monkeypatch):
    written = []
    write = schedule_panel._write
    monkeypatch.setattr(schedule_panel, "_write", lambda *a: written.append(1) or write(*a))
    client.force_login(patient)
    first = page(client)
    assert page(client) == first
    assert len(written) == 1
    assert "Session 1 of 4 done." in first[1]


def test_a_visit_moves_into_the_past_when_it_starts(client, home, patient):
    """On the visit's own day: kept ten minutes before it starts, and a minute after."""
    me, plan, coming = home
    for minutes, upcoming_too in ((-10, True), (0, True), (1, False)):
        with time_machine.travel(coming.starts_at + timedelta(minutes=minutes), tick=False):
            client.force_login(patient)
            upcoming, past = page(client)[1].split("Past visits")
            assert ("Thursday, December 3" in upcoming) is upcoming_too
            assert ("Thursday, December 3" in past) is not upcoming_too
            assert page(client) == page_afresh(client)


def test_the_days_left_with_the_hose_count_down_each_day(client, home, patient):
    client.force_login(patient)
    assert "9 more days with your support hose." in page(client)[0]
    with time_machine.travel(at(MONDAY + timedelta(days=1), 7), tick=False):
        client.force_login(patient)
        assert "8 more days with your support hose." in page(client)[0]


def test_a_cancellation_shows_its_undo_at_once_and_not_after_the_window(
    client, home, patient, settings
):
    me, plan, coming = home
    client.force_login(patient)
    page(client)
    cancel = reverse("portal:cancel", args=[coming.pk])
    response = client.post(cancel, {"confirm": "yes", "version": coming.version})
    assert response.status_code == 302
    assert "Undo the cancellation" in client.get(SCHEDULE).content.decode()
    with time_machine.travel(at(MONDAY, 9), tick=False):
        client.force_login(patient)
        assert "Undo the cancellation" not in client.get(SCHEDULE).content.decode()


def test_the_page_works_and_stays_right_when_the_cache_does_not_answer(
    client, home, patient, settings
):
    me, plan, coming = home
    settings.CACHES = CACHE_DOWN
    client.force_login(patient)
    assert "Hello, Rosa" in page(client)[0]
    me.preferred_name = "Rosie"
    me.save(update_fields=["preferred_name"])
    assert "Hello, Rosie" in page(client)[0]


def test_another_patient_never_gets_this_patients_page(client, home, patient, db):
    from tests.factories import UserFactory

    client.force_login(patient)
    mine = page(client)
    other = UserFactory(username="another", role="patient")
    PatientFactory(portal_user=other, legal_first_name="Zoe")
    client.force_login(other)
    theirs = page(client)
    assert "Hello, Zoe" in theirs[0] and "Rosa" not in "".join(theirs)
    assert theirs != mine
