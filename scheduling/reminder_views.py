"""The pages around reminders: the patient's unsubscribe link (no login) and the staff's view
of a patient's messages."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from goodskin.actors import Actor
from goodskin.roles import STAFF_ROLES, role_required
from patients.access import get_patient_for_user
from patients.models import Patient

from . import outbox
from .services import withdraw_consent


@login_not_required
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows one button; POST (the button, or a mail program's one-click request) stops
    the messages. A GET alone changes nothing, so link checkers can't unsubscribe anyone."""
    found = outbox.read_unsubscribe_token(token)
    patient = Patient.objects.filter(pk=found[0]).first() if found else None
    if patient is None:
        return render(request, "scheduling/unsubscribe.html", {"invalid": True}, status=404)
    channel = found[1]
    done = False
    if request.method == "POST":
        withdraw_consent(patient=patient, channel=channel, by=Actor.from_request(request))
        done = True
    return render(
        request,
        "scheduling/unsubscribe.html",
        {"patient": patient, "channel": channel, "done": done},
    )


@role_required(*STAFF_ROLES)
def patient_messages(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request, pk, subject="messages")
    messages = patient.reminders.select_related("appointment").order_by("-due_at")[:200]
    return render(
        request, "scheduling/patient_messages.html", {"patient": patient, "reminders": messages}
    )
