"""The patient's own printouts (issue 18, point 1): the aftercare sheet of a treatment visit and
a plan's treatment summary, each as a page to print and as a PDF, in the patient's language.
Only their own: the row comes through the access helpers, which answer 404 for anyone else's."""

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from goodskin.roles import Role
from scheduling import aftercare_sheet, printout_views
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
    return printout_views.sheet_page(
        request,
        _own_sheet_appointment(request, pk),
        back_url=reverse("portal:appointment", args=[pk]),
        pdf_url=reverse("portal:aftercare_sheet_pdf", args=[pk]),
    )


@patient_only
def my_aftercare_sheet_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return printout_views.sheet_pdf(request, _own_sheet_appointment(request, pk))


@patient_only
def my_plan_summary(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_own_plan(request, pk)
    return printout_views.summary_page(
        request,
        plan,
        role=Role.PATIENT,
        back_url=reverse("portal:plan", args=[pk]),
        pdf_url=reverse("portal:plan_summary_pdf", args=[pk]),
        language=plan.patient.language,
    )


@patient_only
def my_plan_summary_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_own_plan(request, pk)
    return printout_views.summary_pdf(
        request, plan, role=Role.PATIENT, language=plan.patient.language
    )
