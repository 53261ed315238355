"""The patient's account: opening it from the invitation link, the details the clinic holds,
and the contact details and reminder preferences the patient changes themselves."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from goodskin.actors import Actor, client_ip
from goodskin.language import note_patient_language
from patients import services as patient_services
from patients.access import get_own_patient
from patients.record_files import FileFormat, download

from ..forms import OpenAccountForm, PreferencesForm
from . import patient_only


@login_not_required
def open_account(request: HttpRequest, token: str) -> HttpResponse:
    """The invitation link: the patient chooses a password and is signed in to the portal."""
    invitation = patient_services.usable_invitation(token)
    if invitation is None:
        return render(request, "portal/open_account.html", {"invalid": True}, status=404)
    form = OpenAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = patient_services.accept_invitation(
                token=token, password=form.cleaned_data["password1"], ip=client_ip(request)
            )
        except patient_services.PatientError as error:
            form.add_error(None, str(error))
        else:
            login(request, user, backend="goodskin.auth.UsernameOrEmailBackend")
            messages.success(
                request,
                _("Welcome! Your patient page is ready. Your username is %(username)s.")
                % {"username": user.get_username()},
            )
            return redirect("home")
    context = {
        "form": form,
        "patient": invitation.patient,
        "username": patient_services.portal_username(invitation.email),
    }
    return render(request, "portal/open_account.html", context)


@patient_only
def my_record(request: HttpRequest) -> HttpResponse:
    patient = get_own_patient(request)
    return render(request, "portal/my_record.html", {"patient": patient})


@patient_only
def my_record_json(request: HttpRequest) -> HttpResponse:
    return _my_record_file(request, FileFormat.JSON)


@patient_only
def my_record_pdf(request: HttpRequest) -> HttpResponse:
    return _my_record_file(request, FileFormat.PDF)


def _my_record_file(request: HttpRequest, file_format: str) -> HttpResponse:
    """The patient's whole record, as the clinic's staff would export it, audit trail and all:
    their right of access. Only their own: the record comes from the login, never the URL."""
    patient = get_own_patient(request, subject="export")
    made = patient_services.export_patient(
        patient=patient, by=Actor.from_request(request), file_format=file_format
    )
    return download(made)


@patient_only
def preferences(request: HttpRequest) -> HttpResponse:
    patient = get_own_patient(request, subject="preferences")
    form = PreferencesForm(
        request.POST or None, instance=patient, initial={"version": patient.version}
    )
    if request.method == "POST" and form.is_valid():
        try:
            patient_services.update_patient(
                patient_id=patient.pk,
                version=form.cleaned_data["version"],
                data=form.model_data(),
                by=Actor.from_request(request),
            )
        except patient_services.StaleRecord:
            form.add_error(
                None,
                _(
                    "Your details were changed meanwhile, perhaps by the "
                    "clinic. Please check them and save again."
                ),
            )
        else:
            note_patient_language(request, form.cleaned_data["language"])
            messages.success(request, _("Your preferences are saved."))
            return redirect("portal:schedule")
    return render(request, "portal/preferences.html", {"form": form})
