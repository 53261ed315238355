"""Demo treatment data for seed_demo: plans at every stage (draft, active, completed), charted
sessions, a deferred consultation and one serious adverse event on a doctor's home page.

Idempotent: a demo patient who already has a consultation is left alone. Made through the
services, so the demo data obeys the same rules as real data."""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from goodskin.actors import Actor
from goodskin.roles import Role
from patients.models import Patient
from patients.selectors import screening_summary
from patients.services import record_screening

from . import services
from .models import AdverseEvent, AdverseEventType, Severity

DOMAIN = "@demo.goodskin.test"

# username of the patient: (doctor, decision, areas, sessions, sessions charted, start the plan)
PLANS = {
    "maria.garcia": ("dr.nguyen", "precautions", ["R-thigh-lateral", "R-knee-medial",
                     "L-thigh-lateral", "L-calf-posterior", "L-knee-popliteal"], 4, 2, True),
    "susan.miller": ("dr.patel", "eligible", ["R-calf-lateral", "L-calf-lateral"], 2, 2, True),
    "karen.thompson": ("dr.patel", "eligible", ["R-thigh-medial", "R-thigh-posterior",
                       "R-knee-medial", "R-calf-medial", "R-calf-posterior", "L-thigh-medial",
                       "L-thigh-posterior", "L-knee-medial", "L-calf-medial", "L-ankle-medial"],
                       6, 1, True),
    "jennifer.oconnor": ("dr.nguyen", "eligible", ["L-thigh-anterior", "L-knee-anterior"], 2, 0,
                         False),
    "linda.johnson": ("dr.nguyen", "deferred", [], 0, 0, False),
}  # fmt: skip


def seed(stdout) -> None:
    User = get_user_model()
    doctors = {u.username: u for u in User.objects.filter(username__in=["dr.nguyen", "dr.patel"])}
    patients = Patient.objects.filter(email__endswith=DOMAIN).exclude(consultations__isnull=False)
    made = 0
    for patient in patients:
        username = patient.email.removesuffix(DOMAIN)
        if username not in PLANS or PLANS[username][0] not in doctors:
            continue
        doctor_name, decision, areas, sessions, charted, start = PLANS[username]
        _seed_patient(patient, doctors[doctor_name], decision, areas, sessions, charted, start)
        made += 1
    if made:
        stdout.write(f"Demo treatment plans: {made} patients.")


def _seed_patient(patient, doctor, decision, areas, sessions, charted, start) -> None:
    by = Actor(user=doctor, role=Role.DOCTOR)
    today = timezone.localdate()
    first_session = today - timedelta(weeks=5 * max(charted, 1))
    # The doctor completes the screening at the consultation ("no" to what was left open).
    left_open = screening_summary(patient).missing
    if left_open:
        record_screening(patient=patient, answers={q.key: ("no", "") for q in left_open}, by=by)
    screening = screening_summary(patient)
    consultation = services.record_consultation(
        patient=patient,
        data={
            "held_on": first_session - timedelta(days=14),
            "ceap_right": "C1",
            "ceap_left": "C2" if screening.untreated_varicose else "C1",
            "vessels_right": ["spider", "reticular"],
            "vessels_left": ["spider"],
            "decision": decision,
            "varicose_override": False,
            "varicose_override_reason": "",
            "notes": "Demo consultation.",
        },
        acknowledged=[q.key for q in screening.to_acknowledge],
        by=by,
    )
    if not areas:
        return
    plan = services.create_plan(
        patient=patient,
        consultation=consultation,
        areas=areas,
        sessions=sessions,
        interval_weeks=4,
        hose_days=14,
        start=start,
        notes="",
        by=by,
    )
    for number in range(charted):
        _chart(plan, by, first_session + timedelta(weeks=5 * number), areas, number)
    if patient.email.startswith("karen."):
        AdverseEvent.objects.create(
            plan=plan,
            chart=plan.charts.first(),
            type=AdverseEventType.INFECTION,
            onset_on=today - timedelta(days=2),
            severity=Severity.MODERATE,
            region="R-calf-medial",
            management="Oral antibiotics started; wound check in 3 days.",
            follow_up_needed=True,
            reported_by=doctor,
        )


def _chart(plan, by, day, areas, number) -> None:
    # Alternate sessions treat alternate halves of the plan's areas, as doctors often do.
    chosen = areas[number % 2 :: 2] or areas
    services.record_session(
        plan=plan,
        treated_on=day,
        areas=[
            {
                "region": key,
                "vessel_type": "spider",
                "agent": "polidocanol",
                "concentration": Decimal("0.5"),
                "form": "liquid",
                "volume_ml": Decimal("1.5"),
                "injections": 6,
            }
            for key in chosen
        ],
        immediate_reactions="Mild redness, settled before leaving.",
        compression="Support hose for 14 days",
        notes="",
        sign=True,
        by=by,
    )
