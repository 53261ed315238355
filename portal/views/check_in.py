"""The safety check-in after a session (issue 16, point 1): a public page, no login, the token
in the link is the key. A GET changes nothing (mail scanners follow links); sending the form
keeps the answer and shows at once what to do."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from goodskin.actors import client_ip
from scheduling.models import Appointment
from treatments import check_ins
from treatments.models import CheckInAnswer

from ..forms import CheckInForm
from . import aftercare_context
from .link_pages import clinic_phone, speak_the_patients_language


def _phone(check_in=None) -> str:
    """The phone of the office the session was at; the clinic's main office otherwise."""
    office_phone = ""
    if check_in is not None:
        office_phone = (
            Appointment.objects.filter(pk=check_in.appointment_id)
            .values_list("location__phone", flat=True)
            .first()
        ) or ""
    return clinic_phone(office_phone)


@login_not_required
@require_http_methods(["GET", "POST"])
def check_in(request: HttpRequest, token: str) -> HttpResponse:
    try:
        found = check_ins.find(token)
    except check_ins.LinkNotValid:
        return render(request, "portal/check_in/not_valid.html", {"phone": _phone()}, status=404)
    phone = _phone(found)
    speak_the_patients_language(request, found.plan.patient)
    if check_ins.is_expired(found):
        return render(request, "portal/check_in/expired.html", {"phone": phone}, status=410)
    form = CheckInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reply = check_ins.answer(
                check_in=found,
                answers=form.cleaned_data["answers"],
                note=form.cleaned_data["note"],
                ip=client_ip(request),
                form_token=form.cleaned_data["form_token"],
            )
        except check_ins.CheckInError as error:
            form.add_error(None, str(error))
        else:
            signs = set(reply.warning_signs)
            context = {
                "reply": reply,
                "phone": phone,
                "signs": signs,
                "call_911": CheckInAnswer.CHEST in signs,
                "hard_leg": CheckInAnswer.HARD_LEG in signs,
                "sore": CheckInAnswer.SORE in signs,
                "vision": CheckInAnswer.VISION in signs,
                **aftercare_context(found.plan),
            }
            return render(request, "portal/check_in/answered.html", context)
    patient = found.plan.patient
    context = {
        "form": form,
        "check_in": found,
        "name": patient.preferred_name or patient.legal_first_name,
        "phone": phone,
        "earlier": list(found.replies.all()[:5]),
    }
    return render(request, "portal/check_in/ask.html", context)
