"""The day view's gate marks, kept with its page (scheduling.day_page): under a fingerprint
that covers every row the gate reads, so any change shows on the next page, and only until the
clock makes a screening old, so a re-screen due during the day shows too (issue 19)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient, ScreeningAnswer
from scheduling.models import Kind
from tests.factories import PatientFactory
from tests.scheduling.conftest import MONDAY, TZ, at
from tests.scheduling.test_eligibility_gate import book, changed_after, override
from tests.treatments.conftest import chart_session, complete_screening, make_plan
from treatments.eligibility import rescreen, screening_life
from treatments.models import (
    Clearance,
    ClearanceKind,
    ClinicSettings,
    Consultation,
    TreatmentPlan,
)
from treatments.selectors import get_clinic_settings

pytestmark = pytest.mark.django_db
committing = pytest.mark.django_db(transaction=True)  # as production runs


@pytest.fixture
def record(db):
    patient = PatientFactory(legal_first_name="Rosa", legal_last_name="Parker")
    complete_screening(patient)
    return patient


@pytest.fixture
def plan(now, hours, record, doctor):
    made = make_plan(record, doctor)
    now.shift(timedelta(minutes=1))  # what follows happens after the plan was made
    return made


def _answer(now, plan, doctor):
    changed_after(now, plan.patient, infection="yes")


def _confirmed(now, plan, doctor):
    Patient.objects.filter(pk=plan.patient_id).update(screening_confirmed_at=timezone.now())


def _clearance(now, plan, doctor):
    Clearance.objects.create(
        plan=plan, key="infection", kind=ClearanceKind.OVERRIDE, reason="Healed.", by=doctor
    )


def _chart(now, plan, doctor):
    chart_session(plan, doctor)


def _consultation(now, plan, doctor):
    Consultation.objects.filter(pk=plan.consultation_id).update(ceap_left="C2")


def _plan(now, plan, doctor):
    TreatmentPlan.objects.filter(pk=plan.pk).update(sessions_planned=6)


def _settings(now, plan, doctor):
    get_clinic_settings()
    ClinicSettings.objects.update(rescreen_months=3)


CHANGES = [_answer, _confirmed, _clearance, _chart, _consultation, _plan, _settings]


def day_fingerprint(day) -> str:
    """The day view's fingerprint of `day` (every office)."""
    from scheduling import day_page

    return day_page.fingerprint(day, TZ, None)


@pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__.strip("_"))
def test_every_row_the_gate_reads_changes_the_days_fingerprint(
    change, now, plan, doctor, front_desk
):
    get_clinic_settings()
    day = book(front_desk, plan).starts_at.astimezone(TZ).date()
    before = day_fingerprint(day)
    assert day_fingerprint(day) == before
    change(now, plan, doctor)
    assert day_fingerprint(day) != before


def test_a_touch_up_patients_completed_plans_are_in_the_days_fingerprint(
    now, plan, doctor, front_desk
):
    from scheduling import services
    from tests.scheduling.conftest import desk_actor
    from treatments.models import PlanStatus

    other = make_plan(PatientFactory(), doctor)
    TreatmentPlan.objects.filter(pk=plan.pk).update(
        status=PlanStatus.COMPLETED, completed_at=timezone.now()
    )
    touch_up = services.book_appointment(
        patient=plan.patient,
        doctor=doctor,
        kind=Kind.TOUCH_UP,
        starts_at=at(MONDAY, 11),
        by=desk_actor(front_desk),
    )
    day = touch_up.starts_at.astimezone(TZ).date()
    before = day_fingerprint(day)
    TreatmentPlan.objects.filter(pk=plan.pk).update(sessions_planned=5)
    assert day_fingerprint(day) != before
    before = day_fingerprint(day)
    TreatmentPlan.objects.filter(pk=other.pk).update(sessions_planned=5)  # not on that day
    assert day_fingerprint(day) == before


def card_of(client, appointment) -> str:
    html = client.get(reverse("scheduling:day")).content.decode()
    card = html.split(reverse("scheduling:appointment", args=[appointment.pk]), 1)[1]
    return card.split("</article>", 1)[0]


@committing
def test_the_day_view_shows_a_new_block_on_the_next_page(
    client, now, plan, doctor, front_desk, record
):
    appointment = book(front_desk, plan)
    client.force_login(front_desk)
    assert "data-blocked" not in card_of(client, appointment)
    assert "data-blocked" not in card_of(client, appointment)  # the marks kept
    changed_after(now, record, infection="yes")
    assert "data-blocked" in card_of(client, appointment)
    override(plan, doctor, session=1)
    assert "data-blocked" not in card_of(client, appointment)


@committing
def test_answers_growing_old_during_the_day_ask_for_a_re_screen_on_the_next_page(
    client, now, plan, front_desk, record
):
    """Nothing in the database changes: the clock alone makes the kept marks out of date."""
    next_monday = MONDAY + timedelta(days=7)
    appointment = book(front_desk, plan, when=at(next_monday, 15))
    grows_old = at(next_monday, 10)
    life = screening_life(get_clinic_settings().rescreen_months)
    ScreeningAnswer.objects.filter(patient=record).update(recorded_at=grows_old - life)
    rescreen_url = reverse("scheduling:rescreen", args=[appointment.pk])
    now.move_to(at(next_monday, 8))
    assert rescreen(plan).stale_from == grows_old
    client.force_login(front_desk)
    assert rescreen_url not in card_of(client, appointment)
    assert rescreen_url not in card_of(client, appointment)
    now.move_to(grows_old + timedelta(seconds=1))
    client.force_login(front_desk)
    assert rescreen_url in card_of(client, appointment)


def test_stale_from_is_the_instant_the_answers_grow_old(now, plan, record):
    recorded = timezone.now() - timedelta(days=10)
    ScreeningAnswer.objects.filter(patient=record).update(recorded_at=recorded)
    Patient.objects.filter(pk=record.pk).update(screening_confirmed_at=recorded + timedelta(1))
    plan = TreatmentPlan.objects.get(pk=plan.pk)
    life = screening_life(get_clinic_settings().rescreen_months)
    grows_old = recorded + timedelta(days=1) + life  # the later of the two
    fresh = rescreen(plan, now=grows_old - timedelta(seconds=1))
    assert not fresh.stale and fresh.stale_from == grows_old
    assert not rescreen(plan, now=grows_old).stale
    gone = rescreen(plan, now=grows_old + timedelta(seconds=1))
    assert gone.stale and gone.stale_from is None


def test_a_touch_up_is_marked_as_its_completed_plan_says(
    client, now, plan, doctor, front_desk, record
):
    from scheduling import services
    from tests.scheduling.conftest import desk_actor
    from treatments.models import PlanStatus

    TreatmentPlan.objects.filter(pk=plan.pk).update(
        status=PlanStatus.COMPLETED, completed_at=timezone.now()
    )
    touch_up = services.book_appointment(
        patient=record,
        doctor=doctor,
        kind=Kind.TOUCH_UP,
        starts_at=at(MONDAY, 11),
        by=desk_actor(front_desk),
    )
    client.force_login(front_desk)
    assert "data-blocked" not in card_of(client, touch_up)
    changed_after(now, record, infection="yes")
    assert "data-blocked" in card_of(client, touch_up)
