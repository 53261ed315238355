"""The patient's treatment plans: each plan's progress, and what to do after each session."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from patients.access import get_own_patient
from treatments import diagram, selectors
from treatments.access import get_own_plan

from . import aftercare_context, patient_only


@patient_only
def my_treatment(request: HttpRequest) -> HttpResponse:
    """The patient's own plans with their progress, and what to do after each session."""
    patient = get_own_patient(request, subject="treatment plans")
    plans = selectors.patient_plans_progress(patient)
    context = {
        "patient": patient,
        "plans": plans,
        # The newest plan's numbers (hose days, interval): the one the patient is in.
        **aftercare_context(plans[0].plan if plans else None),
    }
    return render(request, "portal/treatment.html", context)


@patient_only
def my_plan(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_own_plan(request, pk)
    context = {
        "plan": plan,
        "progress": selectors.plan_progress(plan),
        "legend": diagram.legend(),
        **aftercare_context(plan),
    }
    return render(request, "portal/plan.html", context)
