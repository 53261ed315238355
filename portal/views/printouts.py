"""The patient's own printouts (issue 18, point 1): the aftercare sheet of a treatment visit and
a plan's treatment summary, each as a page to print and as a PDF, in the patient's language.
Only their own: the row comes through the access helpers, which answer 404 for anyone else's."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation

from goodskin.actors import Actor
from goodskin.roles import Role
from patients import printouts
from scheduling import aftercare_sheet, plan_summary
from scheduling.access import get_own_appointment
from treatments.access import get_own_plan

from . import patient_only


def _own_sheet_appointment(request: HttpRequest, pk: int):
    appointment = get_own_appointment(request, pk)
    if not aftercare_sheet.printable(appointment):
        raise Http404
    return appointment


@patient_only
def my_aftercare_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _own_sheet_appointment(request, pk)
    with translation.override(appointment.patient.language):
        context = {
            "sheet": aftercare_sheet.sheet(appointment),
            "patient": appointment.patient,
            "back_url": reverse("portal:appointment", args=[pk]),
            "pdf_url": reverse("portal:aftercare_sheet_pdf", args=[pk]),
        }
        return render(request, "scheduling/aftercare_sheet.html", context)


@patient_only
def my_aftercare_sheet_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _own_sheet_appointment(request, pk)
    with translation.override(appointment.patient.language):
        sheet = aftercare_sheet.sheet(appointment)
        content = aftercare_sheet.as_pdf(sheet, by=Actor.from_request(request))
    return printouts.pdf_download(content, aftercare_sheet.file_name(sheet))


@patient_only
def my_plan_summary(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_own_plan(request, pk)
    with translation.override(plan.patient.language):
        context = {
            "summary": plan_summary.summary(plan, role=Role.PATIENT),
            "plan": plan,
            "patient": plan.patient,
            "back_url": reverse("portal:plan", args=[pk]),
            "pdf_url": reverse("portal:plan_summary_pdf", args=[pk]),
        }
        return render(request, "scheduling/plan_summary.html", context)


@patient_only
def my_plan_summary_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_own_plan(request, pk)
    with translation.override(plan.patient.language):
        found = plan_summary.summary(plan, role=Role.PATIENT)
        content = plan_summary.as_pdf(found, by=Actor.from_request(request))
    return printouts.pdf_download(content, plan_summary.file_name(plan))
