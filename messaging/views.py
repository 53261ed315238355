"""The pages around messages: the patient's unsubscribe link (no login), the staff's view of
a patient's messages, "send again" / "dealt with" for a message that never arrived, and the
SMS provider's delivery receipts (no login: signed by the provider)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from twilio.request_validator import RequestValidator

from goodskin import links
from goodskin.actors import Actor
from goodskin.roles import STAFF_ROLES, role_required
from patients import portal_link
from patients.access import get_patient_for_user
from patients.models import Patient, Purpose
from patients.notices import Notice

from . import outbox, receipts, selectors, services
from .models import Message


# A mail program's one-click request (RFC 8058) carries no CSRF token; the signed token in
# the address is the key, and the stop only ever turns a kind of message off.
@csrf_exempt
@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows one button; POST (the button, or a mail program's one-click request) stops
    the kind of message the link came with. A GET alone changes nothing, so link checkers
    can't unsubscribe anyone."""
    link = outbox.read_unsubscribe_token(token)
    patient = Patient.objects.filter(pk=link.patient_id).first() if link else None
    if patient is None:
        return render(request, "messaging/unsubscribe.html", {"invalid": True}, status=404)
    if patient.merged_into_id:
        patient = Patient.objects.get(pk=patient.merged_into_id)
    done = False
    if request.method == "POST":
        try:
            services.unsubscribe(
                patient=patient, purpose=link.purpose, by=Actor.from_request(request)
            )
        except services.MessageError:
            return render(request, "messaging/unsubscribe.html", {"invalid": True}, status=404)
        done = True
    return render(
        request,
        "messaging/unsubscribe.html",
        {
            "aftercare": link.purpose == Purpose.AFTERCARE,
            "done": done,
            "preferences_url": portal_link.preferences_path(),
        },
    )


# Twilio posts its receipts with no CSRF token and no session: its signature is the key.
@csrf_exempt
@login_not_required
@require_POST
def sms_status(request: HttpRequest) -> HttpResponse:
    """Twilio's status callback for a text it accepted. Anything not signed with the clinic's
    auth token is refused; a receipt for a text this clinic does not know changes nothing."""
    if not _signed_by_twilio(request):
        return HttpResponseForbidden()
    receipts.record(
        provider_id=request.POST.get("MessageSid", ""),
        status=request.POST.get("MessageStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)


def _signed_by_twilio(request: HttpRequest) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    token = settings.TWILIO_AUTH_TOKEN
    # Twilio signs form posts only; an empty token would let anyone sign.
    if not (signature and token) or request.content_type != "application/x-www-form-urlencoded":
        return False
    # Checked against the address Twilio was given (SITE_URL), not the Host a proxy passes on.
    url = settings.SITE_URL.rstrip("/") + request.get_full_path()
    return RequestValidator(token).validate(url, request.POST, signature)


@role_required(*STAFF_ROLES)
def patient_messages(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request, pk, subject="messages")
    given_up, given_up_count = selectors.given_up_messages(patient_id=patient.pk, limit=200)
    return render(
        request,
        "messaging/patient_messages.html",
        {
            "patient": patient,
            "lines": selectors.patient_messages(patient.pk),
            "given_up": given_up,
            "given_up_count": given_up_count,
        },
    )


# Where "send again" and "dealt with" go back to: a fixed choice, never an address from the form.
BACK_TO = {"home": "frontdesk_home", "patient": "messaging:patient"}


@role_required(*STAFF_ROLES)
@require_POST
def act_on_given_up(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    message = get_object_or_404(
        Message.objects.only("pk", "patient_id"), pk=pk, patient__isnull=False
    )
    get_patient_for_user(request, message.patient_id, subject="messages")
    do = {"send-again": services.send_again, "dealt-with": services.mark_handled}
    if action not in do:
        raise Http404
    try:
        do[action](message_id=message.pk, by=Actor.from_request(request))
    except services.MessageError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("The message will go out again within a few minutes.")
            if action == "send-again"
            else _("The message is marked as dealt with."),
        )
    if request.POST.get("back") == "home":
        return redirect(BACK_TO["home"])
    return redirect(BACK_TO["patient"], pk=message.patient_id)


def record_links(*, patient: Patient, role) -> list[links.Link]:
    """The patient's record links to their messages (staff only see records)."""
    return [links.Link(_("Messages"), reverse("messaging:patient", args=[patient.pk]))]


def messages_notice(patient: Patient) -> list[Notice]:
    """For the patient's record page: the messages that never reached them, if any."""
    count = selectors.given_up_count(patient.pk)
    if not count:
        return []
    text = ngettext(
        "%(n)d message never reached this patient.",
        "%(n)d messages never reached this patient.",
        count,
    ) % {"n": count}
    return [Notice(text, reverse("messaging:patient", args=[patient.pk]), _("See them"))]
