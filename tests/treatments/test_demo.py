from io import StringIO

from django.core.management import call_command

from patients.models import Patient
from treatments import demo
from treatments.models import AdverseEvent, PlanStatus, SessionChart, TreatmentPlan


def seed_all() -> str:
    out = StringIO()
    call_command("seed_demo", "--allow-production", stdout=out)
    return out.getvalue()


def test_it_seeds_plans_at_every_stage_with_charts_and_an_adverse_event(db):
    seed_all()
    statuses = set(TreatmentPlan.objects.values_list("status", flat=True))
    assert {PlanStatus.DRAFT, PlanStatus.ACTIVE, PlanStatus.COMPLETED} <= statuses
    assert SessionChart.objects.count() >= 4
    assert AdverseEvent.objects.count() == 1


def test_it_is_idempotent(db):
    seed_all()
    counts = (TreatmentPlan.objects.count(), SessionChart.objects.count())
    seed_all()
    assert (TreatmentPlan.objects.count(), SessionChart.objects.count()) == counts
    assert AdverseEvent.objects.count() == 1


def test_it_makes_nothing_without_demo_patients(db):
    assert not Patient.objects.exists()
    demo.seed(StringIO())
    assert not TreatmentPlan.objects.exists()
