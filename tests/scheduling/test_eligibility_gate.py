"""Issue 13, point 1 and the second half of point 2: the eligibility gate holds on every path
where treatment can happen (making and starting a plan, booking, moving, check-in, charting),
with the screening as it stands that day, and check-in re-screens stale or changed answers.

Each path is tried with the screening changed after the consultation, as the clinic saw it:
the plan was made, then the answers changed, and the next step must notice."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from goodskin.actors import Actor
from goodskin.roles import Role
from patients.models import AuditEntry, Patient
from scheduling import services
from scheduling.models import Appointment, Kind, Status
from tests.factories import PatientFactory, UserFactory, screen
from tests.scheduling.conftest import MONDAY, at, desk_actor
from tests.treatments.conftest import (
    as_doctor,
    chart_session,
    complete_screening,
    make_consultation,
    make_plan,
)
from treatments import services as treatment_services
from treatments.eligibility import Step, assess, rescreen
from treatments.models import Clearance, ClearanceKind, SessionChart

MINUTE = timedelta(minutes=1)
BLOCKED = "Treatment is blocked: "


@pytest.fixture
def record(db):
    patient = PatientFactory(legal_first_name="Rosa", legal_last_name="Parker")
    complete_screening(patient)
    return patient


@pytest.fixture
def plan(now, hours, record, doctor):
    made = make_plan(record, doctor)
    now.shift(MINUTE)  # what follows happens after the plan was made
    return made


def changed_after(now, patient, **answers):
    """The screening changed after the consultation and the plan, by the front desk."""
    now.shift(MINUTE)
    screen(patient, **answers)
    now.shift(MINUTE)


def book(front_desk, plan, number=1, when=None):
    return services.book_appointment(
        patient=plan.patient,
        doctor=plan.doctor,
        kind=Kind.SESSION,
        starts_at=when or at(MONDAY, 9),
        by=desk_actor(front_desk),
        plan=plan,
        session_number=number,
    )


def override(plan, doctor, *, session=None, reason="Vascular surgeon cleared her on 11/20."):
    verdict = assess(plan, session=session)
    keys = [p.key for p in verdict.stops(Step.CHART)]
    return treatment_services.clear_for_treatment(
        plan=plan, keys=keys, session=session, reason=reason, by=as_doctor(doctor)
    )


# --- Making and starting a plan --------------------------------------------------------------


def test_a_plan_is_refused_on_the_screening_as_it_stands_not_as_the_consultation_saw_it(
    now, record, doctor
):
    consultation = make_consultation(record, doctor)
    changed_after(now, record, acute_dvt_pe="yes")
    with pytest.raises(treatment_services.TreatmentError) as refused:
        make_plan(record, doctor, consultation=consultation)
    assert "Acute deep vein thrombosis or pulmonary embolism" in str(refused.value)
    assert not record.treatment_plans.exists()


def test_a_doctor_makes_the_plan_anyway_with_a_reason_kept_with_who_and_when(now, record, doctor):
    consultation = make_consultation(record, doctor)
    changed_after(now, record, untreated_varicose="yes")
    plan = treatment_services.create_plan(
        patient=record,
        consultation=consultation,
        areas=["R-calf-medial"],
        sessions=4,
        interval_weeks=4,
        hose_days=14,
        start=True,
        notes="",
        by=as_doctor(doctor),
        override_reason="  Reflux treated elsewhere in October; only spider veins left.  ",
    )
    (clearance,) = plan.clearances.all()
    assert (clearance.key, clearance.kind, clearance.session) == (
        "untreated_varicose",
        ClearanceKind.OVERRIDE,
        None,
    )
    assert clearance.reason == "Reflux treated elsewhere in October; only spider veins left."
    assert clearance.by == doctor and clearance.at is not None
    entry = AuditEntry.objects.filter(subject=f"plan:{plan.pk}").order_by("-id").first()
    assert entry.details["cleared"] == [["override", "untreated_varicose"]]
    assert not assess(plan).blockers


@pytest.mark.parametrize(
    ("areas", "blocked"),
    [(["L-calf-medial"], True), (["R-calf-medial", "L-foot"], True), (["R-calf-medial"], False)],
)
def test_ceap_c2_or_above_blocks_a_plan_only_on_a_leg_it_treats(
    now, record, doctor, areas, blocked
):
    consultation = make_consultation(record, doctor, ceap_left="C3", vessels_left=["varicose"])
    if not blocked:
        assert make_plan(record, doctor, consultation=consultation, areas=areas)
        return
    with pytest.raises(treatment_services.TreatmentError, match="Left leg C3"):
        make_plan(record, doctor, consultation=consultation, areas=areas)


def test_the_consultations_own_varicose_override_counts_for_ceap_and_varicose_veins(
    now, record, doctor
):
    screen(record, untreated_varicose="yes")
    consultation = make_consultation(
        record,
        doctor,
        ceap_left="C2",
        acknowledged=["untreated_varicose"],
        varicose_override=True,
        varicose_override_reason="Patient declines vein surgery; small reticular veins only.",
    )
    plan = make_plan(record, doctor, consultation=consultation, areas=["L-calf-medial"])
    verdict = assess(plan)
    assert not verdict.blockers
    assert {c.key for c in verdict.overridden} == {"untreated_varicose", "ceap_left"}


def test_starting_a_draft_plan_reads_the_screening_again(now, record, doctor):
    plan = make_plan(record, doctor, start=False)
    changed_after(now, record, infection="yes")
    with pytest.raises(treatment_services.TreatmentError, match="Infection in the area"):
        treatment_services.set_plan_status(plan=plan, status="active", by=as_doctor(doctor))
    plan.refresh_from_db()
    assert plan.status == "draft"


# --- Booking and moving ---------------------------------------------------------------------


def test_booking_a_session_after_the_screening_changed_is_refused_naming_the_blocker(
    now, plan, front_desk, record
):
    changed_after(now, record, untreated_varicose="yes", pregnancy="yes")
    with pytest.raises(services.BookingError) as refused:
        book(front_desk, plan, number=2, when=at(MONDAY + timedelta(days=1), 9))
    assert str(refused.value).startswith(BLOCKED + "Untreated varicose veins or reflux.")
    # A relative contraindication waits for the visit: it does not stop the booking.
    assert "Pregnant" not in str(refused.value)
    with pytest.raises(services.BookingError, match="Untreated varicose veins"):
        services.book_series(plan=plan, starts={1: at(MONDAY, 9)}, by=desk_actor(front_desk))
    assert not Appointment.objects.exists()


def test_an_override_for_the_plan_lets_every_session_book_one_for_a_visit_only_that_one(
    now, plan, front_desk, doctor, record
):
    changed_after(now, record, untreated_varicose="yes")
    override(plan, doctor, session=1)
    first = book(front_desk, plan, number=1)
    assert first.session_number == 1
    with pytest.raises(services.BookingError, match="Untreated varicose veins"):
        book(front_desk, plan, number=2, when=at(MONDAY + timedelta(weeks=4), 9))
    override(plan, doctor)
    assert book(front_desk, plan, number=2, when=at(MONDAY + timedelta(weeks=4), 9))


def test_moving_a_session_after_the_screening_changed_is_refused_and_nothing_moves(
    now, plan, front_desk, record
):
    appointment = book(front_desk, plan, number=1)
    changed_after(now, record, sclerosant_allergy="yes")
    with pytest.raises(services.BookingError, match="Allergy to a sclerosing agent"):
        services.move_appointment(
            appointment=appointment, starts_at=at(MONDAY, 11), by=desk_actor(front_desk)
        )
    appointment.refresh_from_db()
    assert appointment.starts_at == at(MONDAY, 9) and appointment.version == 1


# --- Check-in ---------------------------------------------------------------------------------


def check_in(appointment, front_desk):
    return services.set_status(
        appointment=appointment, status=Status.CHECKED_IN, by=desk_actor(front_desk)
    )


def test_check_in_stops_at_a_blocker_and_goes_ahead_after_the_doctors_override(
    now, plan, front_desk, doctor, record
):
    appointment = book(front_desk, plan)
    changed_after(now, record, immobility="yes")
    for status in (Status.CHECKED_IN, Status.IN_PROGRESS):
        with pytest.raises(services.BookingError, match="Long-term immobility"):
            services.set_status(appointment=appointment, status=status, by=desk_actor(front_desk))
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED
    override(plan, doctor, session=1)
    # The override is there; the changed answer is still confirmed with the patient first.
    with pytest.raises(services.BookingError, match="re-screen"):
        check_in(appointment, front_desk)
    record.refresh_from_db()
    from patients.services import confirm_screening

    confirm_screening(patient=record, answers={}, by=desk_actor(front_desk))
    assert check_in(appointment, front_desk).status == Status.CHECKED_IN


def test_a_new_relative_contraindication_needs_the_doctors_acknowledgment_before_the_session(
    now, plan, front_desk, doctor, record
):
    appointment = book(front_desk, plan)
    changed_after(now, record, pregnancy="yes")
    from patients.services import confirm_screening

    confirm_screening(patient=record, answers={}, by=desk_actor(front_desk))
    with pytest.raises(services.BookingError, match="must acknowledge this first.*Pregnant"):
        check_in(appointment, front_desk)
    # An acknowledgment needs no reason.
    (ack,) = override(plan, doctor, reason="")
    assert ack.kind == ClearanceKind.ACKNOWLEDGMENT
    assert check_in(appointment, front_desk).status == Status.CHECKED_IN


def test_a_clearance_no_longer_counts_once_the_answer_changes_again(
    now, plan, front_desk, doctor, record
):
    changed_after(now, record, untreated_varicose="yes")
    override(plan, doctor)
    assert not assess(plan).blockers
    changed_after(now, record, untreated_varicose="no")
    changed_after(now, record, untreated_varicose="yes")
    assert [p.key for p in assess(plan).blockers] == ["untreated_varicose"]


# --- Re-screening at check-in -----------------------------------------------------------------


def test_answers_older_than_the_setting_are_confirmed_at_check_in(now, plan, front_desk, record):
    appointment = book(front_desk, plan, when=at(MONDAY + timedelta(days=200), 9))
    now.move_to(at(MONDAY + timedelta(days=200), 7))
    assert rescreen(plan).stale and not rescreen(plan).changes
    with pytest.raises(services.BookingError, match="re-screen"):
        check_in(appointment, front_desk)
    from patients.services import confirm_screening

    confirm_screening(patient=record, answers={}, by=desk_actor(front_desk))
    plan.patient.refresh_from_db()
    assert not rescreen(plan).needed
    assert check_in(appointment, front_desk).status == Status.CHECKED_IN


def test_the_front_desk_re_screens_on_the_check_in_page_and_the_doctor_sees_what_changed(
    client, now, plan, front_desk, doctor, record
):
    appointment = book(front_desk, plan)
    changed_after(now, record, estrogen="yes")
    client.force_login(front_desk)
    url = reverse("scheduling:rescreen", args=[appointment.pk])
    page = client.get(url, {"next": reverse("scheduling:day")})
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("data-changed") == 1 and "changed since the plan" in html
    answers = {
        key: answer.answer
        for key, answer in {a.question: a for a in record.screening.all()}.items()
    }
    answers["estrogen"] = "no"  # the patient stopped the pill last month
    posted = client.post(url, {**answers, "next": reverse("scheduling:day")})
    assert posted.status_code == 302 and posted.url == reverse("scheduling:day")
    appointment.refresh_from_db()
    assert appointment.status == Status.CHECKED_IN
    record.refresh_from_db()
    assert record.screening_confirmed_at is not None
    assert record.screening_confirmed_by == front_desk
    client.force_login(doctor)
    plan_page = client.get(reverse("treatments:plan", args=[record.pk, plan.pk])).content.decode()
    assert 'data-changed="estrogen"' in plan_page
    assert plan_page.count('data-changed="estrogen"') == 2  # yes, then no again


def test_a_re_screen_that_finds_a_blocker_keeps_the_answers_and_does_not_check_in(
    client, now, plan, front_desk, record
):
    appointment = book(front_desk, plan)
    changed_after(now, record, travel_planned="yes")
    client.force_login(front_desk)
    answers = {a.question: a.answer for a in record.screening.all()}
    answers["acute_dvt_pe"] = "yes"
    response = client.post(
        reverse("scheduling:rescreen", args=[appointment.pk]), answers, follow=True
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The screening is saved." in html and "Acute deep vein thrombosis" in html
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED
    assert record.screening.get(question="acute_dvt_pe").answer == "yes"


# --- Charting -------------------------------------------------------------------------------


def test_charting_after_the_screening_changed_is_refused_until_a_doctor_overrides(
    now, plan, doctor, record
):
    changed_after(now, record, limb_ischaemia="yes")
    with pytest.raises(treatment_services.TreatmentError, match="Critical limb ischaemia"):
        chart_session(plan, doctor, treated_on=MONDAY)
    assert not SessionChart.objects.exists()
    override(plan, doctor, session=1)
    assert chart_session(plan, doctor, treated_on=MONDAY).number == 1


# --- Who may clear, and bad input -------------------------------------------------------------


def test_an_override_without_a_reason_is_refused_and_saves_nothing(now, plan, doctor, record):
    changed_after(now, record, untreated_varicose="yes")
    with pytest.raises(treatment_services.TreatmentError, match="Write why"):
        override(plan, doctor, reason="   ")
    with pytest.raises(treatment_services.TreatmentError, match="at most 1000"):
        override(plan, doctor, reason="x" * 1001)
    assert not Clearance.objects.exists()


def test_only_a_doctor_clears_and_only_what_the_gate_shows_now(
    now, plan, doctor, front_desk, record
):
    changed_after(now, record, untreated_varicose="yes")
    desk = Actor(user=front_desk, role=Role.FRONT_DESK, ip="127.0.0.1")
    with pytest.raises(treatment_services.TreatmentError, match="Only a doctor"):
        treatment_services.clear_for_treatment(
            plan=plan, keys=["untreated_varicose"], session=None, reason="x", by=desk
        )
    for keys in (["pregnancy"], ["untreated_varicose", "pregnancy"], []):
        with pytest.raises(treatment_services.TreatmentError):
            treatment_services.clear_for_treatment(
                plan=plan, keys=keys, session=None, reason="x", by=as_doctor(doctor)
            )
    for session in (0, 101):
        with pytest.raises(treatment_services.TreatmentError):
            treatment_services.clear_for_treatment(
                plan=plan,
                keys=["untreated_varicose"],
                session=session,
                reason="x",
                by=as_doctor(doctor),
            )
    assert not Clearance.objects.exists()


def test_the_plan_page_form_clears_and_refuses_with_a_message_never_a_500(
    client, now, plan, doctor, front_desk, record
):
    changed_after(now, record, untreated_varicose="yes")
    url = reverse("treatments:plan_clear", args=[record.pk, plan.pk])
    client.force_login(doctor)
    page = client.get(reverse("treatments:plan", args=[record.pk, plan.pk])).content.decode()
    assert 'data-problem="untreated_varicose"' in page and url in page
    hostile = [
        {"key": "untreated_varicose", "scope": "visit", "reason": ""},
        {"key": "untreated_varicose", "scope": "nonsense", "reason": "x"},
        {"key": "pregnancy", "scope": "plan", "reason": "x"},
        {"key": "untreated_varicose", "scope": "plan", "reason": "x" * 5000},
        {"key": "\x00", "scope": "plan", "reason": "\x00"},
        {},
    ]
    for data in hostile:
        response = client.post(url, data, follow=True)
        assert response.status_code == 200, data
        assert 'class="alert alert-danger' in response.content.decode(), data
    assert not Clearance.objects.exists()
    done = client.post(
        url, {"key": "untreated_varicose", "scope": "plan", "reason": "Cleared by surgeon."}
    )
    assert done.status_code == 302
    assert Clearance.objects.get().reason == "Cleared by surgeon."
    # A second click of the same form saves nothing twice.
    again = client.post(
        url, {"key": "untreated_varicose", "scope": "plan", "reason": "Cleared by surgeon."}
    )
    assert again.status_code == 302 and Clearance.objects.count() == 1


def test_the_clear_form_answers_other_roles_and_other_patients_with_no_access(
    client, now, plan, doctor, front_desk, record, patient
):
    changed_after(now, record, untreated_varicose="yes")
    data = {"key": "untreated_varicose", "scope": "plan", "reason": "x"}
    url = reverse("treatments:plan_clear", args=[record.pk, plan.pk])
    admin = UserFactory(role=Role.ADMIN)
    for user in (front_desk, admin, patient):
        client.force_login(user)
        assert client.post(url, data).status_code in (403, 404)
    client.logout()
    assert client.post(url, data).status_code == 302  # to the login page
    other = PatientFactory()
    client.force_login(doctor)
    wrong = reverse("treatments:plan_clear", args=[other.pk, plan.pk])
    assert client.post(wrong, data).status_code == 404
    assert not Clearance.objects.exists()
    assert Patient.objects.filter(pk=record.pk).exists()


# --- The day view ---------------------------------------------------------------------------


def test_the_day_view_shows_the_block_and_offers_no_check_in_past_it(
    client, now, plan, doctor, front_desk, record
):
    appointment = book(front_desk, plan)
    changed_after(now, record, rl_shunt="no", infection="yes")
    client.force_login(front_desk)
    html = client.get(reverse("scheduling:day")).content.decode()
    card = html.split(reverse("scheduling:appointment", args=[appointment.pk]), 1)[1]
    card = card.split("</article>", 1)[0]
    assert "data-blocked" in card and "Infection in the area" in card
    assert 'value="checked_in"' not in card and 'value="in_progress"' not in card
    assert 'value="no_show"' in card  # what does not treat stays offered
    override(plan, doctor, session=1)
    html = client.get(reverse("scheduling:day")).content.decode()
    card = html.split(reverse("scheduling:appointment", args=[appointment.pk]), 1)[1]
    card = card.split("</article>", 1)[0]
    assert "data-blocked" not in card
    assert reverse("scheduling:rescreen", args=[appointment.pk]) in card


def test_the_re_screen_page_answers_other_roles_and_bad_input_without_a_500(
    client, now, plan, front_desk, patient, record
):
    appointment = book(front_desk, plan)
    changed_after(now, record, estrogen="yes")
    url = reverse("scheduling:rescreen", args=[appointment.pk])
    client.force_login(patient)
    assert client.get(url).status_code in (403, 404)
    assert client.post(url, {"estrogen": "no"}).status_code in (403, 404)
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(front_desk)
    assert client.get(reverse("scheduling:rescreen", args=[987654])).status_code == 404
    before = {a.question: (a.answer, a.recorded_at) for a in record.screening.all()}
    for data in ({}, {"estrogen": "maybe"}, {"estrogen": "\x00"}, {"estrogen__note": "x" * 400}):
        response = client.post(url, data)
        assert response.status_code == 200, data
        assert "This field is required." in response.content.decode() or "valid" in (
            response.content.decode()
        )
    assert {a.question: (a.answer, a.recorded_at) for a in record.screening.all()} == before
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED
    record.refresh_from_db()
    assert record.screening_confirmed_at is None


def test_the_doctors_own_day_shows_the_block_and_offers_no_check_in_past_it(
    client, now, plan, doctor, front_desk, record
):
    appointment = book(front_desk, plan)
    changed_after(now, record, infection="yes")
    client.force_login(doctor)
    html = client.get(reverse("scheduling:my_day")).content.decode()
    item = html.split(reverse("scheduling:appointment", args=[appointment.pk]), 1)[1]
    item = item.split("</li>", 1)[0]
    assert "data-blocked" in item and "Infection in the area" in item
    assert reverse("treatments:plan", args=[record.pk, plan.pk]) + "#gate" in item
    assert 'value="checked_in"' not in item and 'value="in_progress"' not in item


def test_the_day_view_reads_the_gate_of_one_or_three_plans_in_the_same_queries(
    client, now, plan, doctor, front_desk, record, card_cache_paused
):
    """Each consultation names its doctor and the one who overrode its varicose veins: the
    gate's clearances carry them, read with the plans, not one plan at a time."""
    from treatments.models import Consultation

    def acknowledged_and_overridden(made):
        Consultation.objects.filter(pk=made.consultation_id).update(
            acknowledged=["smoking"],
            varicose_override=True,
            varicose_override_reason="Seen by a vascular surgeon.",
            varicose_override_by=UserFactory(),
        )

    def day_view_queries():
        with CaptureQueriesContext(connection) as queries:
            html = client.get(reverse("scheduling:day")).content.decode()
        return len(queries), html.count('<article class="card gs-appt')

    acknowledged_and_overridden(plan)
    book(front_desk, plan)
    client.force_login(front_desk)
    client.get(reverse("scheduling:day"))  # the session and the user, once
    one = day_view_queries()
    for hour in (10, 11):
        other = PatientFactory()
        complete_screening(other)
        more = make_plan(other, doctor)
        acknowledged_and_overridden(more)
        book(front_desk, more, when=at(MONDAY, hour))
    three = day_view_queries()
    assert (one[1], three[1]) == (1, 3)
    assert one[0] == three[0]


def test_the_day_view_reads_the_plans_of_its_sessions_and_touch_ups_in_one_query(
    client, now, plan, doctor, front_desk, card_cache_paused
):
    """A session's plan, the completed plan a touch-up follows and how far each is charted:
    one read of the plans for the whole day."""
    from django.utils import timezone

    from treatments.models import PlanStatus, TreatmentPlan

    book(front_desk, plan)
    other = PatientFactory()
    complete_screening(other)
    done = make_plan(other, doctor)
    TreatmentPlan.objects.filter(pk=done.pk).update(
        status=PlanStatus.COMPLETED, completed_at=timezone.now()
    )
    services.book_appointment(
        patient=other,
        doctor=doctor,
        kind=Kind.TOUCH_UP,
        starts_at=at(MONDAY, 11),
        by=desk_actor(front_desk),
    )
    client.force_login(front_desk)
    client.get(reverse("scheduling:day"))  # the session and the user, once
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("scheduling:day")).content.decode()
    assert html.count('<article class="card gs-appt') == 2
    assert html.count("data-blocked") == 0
    plan_reads = [q for q in queries if 'FROM "treatments_treatmentplan"' in q["sql"]]
    assert len(plan_reads) == 1
