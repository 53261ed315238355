"""The printouts as pages and PDFs (issue 18, point 1): a plan's treatment summary for the
staff (doctors see what each chart says; the front desk the sessions, their days and what is
booked next: scheduling.plan_summary), and the page and file of the aftercare sheet and the
summary that the staff's views and the portal's share, each reached through its own access
helper."""

from contextlib import nullcontext

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from goodskin.actors import Actor
from goodskin.roles import STAFF_ROLES, role_of, role_required
from patients import printouts
from treatments.access import get_plan_for_user

from . import aftercare_sheet, plan_summary

staff_only = role_required(*STAFF_ROLES)


@staff_only
def plan_summary_page(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    plan = get_plan_for_user(request, patient_pk, pk)
    return summary_page(
        request,
        plan,
        role=role_of(request.user),
        back_url=reverse("treatments:plan", args=[patient_pk, pk]),
        pdf_url=reverse("scheduling:plan_summary_pdf", args=[patient_pk, pk]),
    )


@staff_only
def plan_summary_pdf(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    plan = get_plan_for_user(request, patient_pk, pk)
    return summary_pdf(request, plan, role=role_of(request.user))


def _in(language: str | None):
    return translation.override(language) if language else nullcontext()


def summary_page(request, plan, *, role, back_url: str, pdf_url: str, language=None):
    """The summary to print, in `language` (the reader's when None)."""
    with _in(language):
        context = {
            "summary": plan_summary.summary(plan, role=role),
            "plan": plan,
            "patient": plan.patient,
            "back_url": back_url,
            "pdf_url": pdf_url,
        }
        return render(request, "scheduling/plan_summary.html", context)


def summary_pdf(request, plan, *, role, language=None) -> HttpResponse:
    """The summary as a PDF download, in `language` (the reader's when None); audited."""
    with _in(language):
        found = plan_summary.summary(plan, role=role)
        content = plan_summary.as_pdf(found, by=Actor.from_request(request))
    return printouts.pdf_download(content, plan_summary.file_name(plan))


def sheet_page(request, appointment, *, back_url: str, pdf_url: str) -> HttpResponse:
    """The aftercare sheet to print. The patient reads it: it is written in their language,
    whatever the reader's page is in."""
    with translation.override(appointment.patient.language):
        context = {
            "sheet": aftercare_sheet.sheet(appointment),
            "patient": appointment.patient,
            "back_url": back_url,
            "pdf_url": pdf_url,
        }
        return render(request, "scheduling/aftercare_sheet.html", context)


def sheet_pdf(request, appointment) -> HttpResponse:
    """The same sheet as a PDF, in the patient's language (the download is audited)."""
    with translation.override(appointment.patient.language):
        sheet = aftercare_sheet.sheet(appointment)
        content = aftercare_sheet.as_pdf(sheet, by=Actor.from_request(request))
    return printouts.pdf_download(content, aftercare_sheet.file_name(sheet))


def printouts_panel(request, plan) -> str:
    """The plan's page: its treatment summary to print or download."""
    if role_of(request.user) not in STAFF_ROLES:
        return ""
    args = [plan.patient_id, plan.pk]
    context = {
        "page_url": reverse("scheduling:plan_summary", args=args),
        "pdf_url": reverse("scheduling:plan_summary_pdf", args=args),
    }
    return render_to_string("scheduling/_plan_printouts.html", context, request=request)
