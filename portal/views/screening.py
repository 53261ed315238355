"""The patient answers the screening questions before a visit (issue 15, point 2): the clinic
sends the link when a consultation is booked; the doctor reviews the answers at the visit."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from goodskin.actors import Actor
from patients import patient_answers
from patients.access import get_own_patient_or_none
from patients.models import ScreeningAnswer
from patients.services import PatientError

from ..forms import MyScreeningForm
from . import patient_only


@patient_only
def my_screening(request: HttpRequest) -> HttpResponse:
    patient = get_own_patient_or_none(request, subject="portal screening")
    if patient is None:
        return render(request, "portal/no_record.html")
    # What the patient sees ticked: their own answer waiting for the doctor, or the clinic's.
    current = {
        row.question: row.patient_answer or row.answer
        for row in ScreeningAnswer.objects.filter(patient=patient)
    }
    form = MyScreeningForm(request.POST if request.method == "POST" else None, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            patient_answers.record_patient_screening(
                patient=patient, answers=form.answers(), by=Actor.from_request(request)
            )
        except PatientError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Thank you. The doctor will go through your answers with you at your visit."),
            )
            return redirect("portal:schedule")
    return render(request, "portal/screening.html", {"form": form})
