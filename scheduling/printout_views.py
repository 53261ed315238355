"""A plan's treatment summary for the staff, as a page to print and as a PDF (issue 18, point
1). Doctors see what each chart says; the front desk the sessions, their days and what is
booked next (scheduling.plan_summary)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse

from goodskin.actors import Actor
from goodskin.roles import STAFF_ROLES, role_of, role_required
from patients import printouts
from treatments.access import get_plan_for_user

from . import plan_summary

staff_only = role_required(*STAFF_ROLES)


@staff_only
def plan_summary_page(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    plan = get_plan_for_user(request, patient_pk, pk)
    context = {
        "summary": plan_summary.summary(plan, role=role_of(request.user)),
        "plan": plan,
        "patient": plan.patient,
        "back_url": reverse("treatments:plan", args=[patient_pk, pk]),
        "pdf_url": reverse("scheduling:plan_summary_pdf", args=[patient_pk, pk]),
    }
    return render(request, "scheduling/plan_summary.html", context)


@staff_only
def plan_summary_pdf(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    plan = get_plan_for_user(request, patient_pk, pk)
    found = plan_summary.summary(plan, role=role_of(request.user))
    content = plan_summary.as_pdf(found, by=Actor.from_request(request))
    return printouts.pdf_download(content, plan_summary.file_name(plan))


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
