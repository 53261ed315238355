"""Patient pages for front desk and doctors (the patient's own pages are in the portal app)."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from goodskin import two_factor
from goodskin.actors import Actor
from goodskin.roles import STAFF_ROLES, Role, role_required

from . import (
    audit,
    patient_answers,
    portal_link,
    record_page,
    result_rows,
    selectors,
    services,
    upcoming,
)
from .access import find_patients_for_user, get_patient_for_user
from .forms import (
    InviteForm,
    MergeForm,
    PatientEditForm,
    PatientForm,
    ScreeningForm,
    SearchForm,
)
from .models import AuditAction, Patient, ScreeningChange
from .record_files import FileFormat, download
from .record_page import MERGE_ROLES

staff_only = role_required(*STAFF_ROLES)


@staff_only
def patient_list(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    found = find_patients_for_user(request, query) if query else None
    patients, close, more = (
        (found.patients, found.close, found.more) if found else ([], False, False)
    )
    next_at = upcoming.next_appointments([p.pk for p in patients])
    rows = [(patient, next_at.get(patient.pk)) for patient in patients]
    template = "patients/_results.html" if request.htmx else "patients/list.html"
    context = {
        "form": form,
        "query": query,
        "rows": rows,
        "result_rows": result_rows.write(rows),
        "close": close,
        "more": more,
    }
    return render(request, template, context)


@staff_only
def patient_create(request: HttpRequest) -> HttpResponse:
    form = PatientForm(request.POST or None)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        data = form.model_data()
        if not request.POST.get("create_anyway"):
            duplicates = selectors.possible_duplicates(
                first_name=data["legal_first_name"],
                last_name=data["legal_last_name"],
                date_of_birth=data["date_of_birth"],
                phone=str(data["phone"] or ""),
                email=data["email"],
            )
        if not duplicates:
            try:
                patient = services.register_patient(
                    data=data,
                    by=Actor.from_request(request),
                    form_token=form.cleaned_data["form_token"],
                )
            except services.AlreadySaved as saved:
                messages.info(request, _("This patient was already registered by the first click."))
                return redirect("patients:detail", pk=saved.saved.pk)
            messages.success(request, _("%(name)s is registered.") % {"name": patient.full_name})
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "patients/form.html", {"form": form, "duplicates": duplicates})


@staff_only
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request, pk)
    if patient.merged_into_id:
        messages.info(request, _("This record was merged into another one."))
        return redirect("patients:detail", pk=patient.merged_into_id)
    body = record_page.body(request, patient)
    return render(request, "patients/detail.html", {"patient": patient, "body": body})


@staff_only
def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request, pk)
    initial = {"version": patient.version}
    form = PatientEditForm(request.POST or None, instance=patient, initial=initial)
    stale = None
    if request.method == "POST" and form.is_valid():
        try:
            services.update_patient(
                patient_id=patient.pk,
                version=form.cleaned_data["version"],
                data=form.model_data(),
                by=Actor.from_request(request),
            )
        except services.StaleRecord as error:
            stale = error
            patient.refresh_from_db()
            # The form keeps what this person typed; the next save is against the new version.
            form.data = form.data.copy()
            form.data["version"] = patient.version
        else:
            messages.success(request, _("Changes saved."))
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "patients/form.html", {"form": form, "patient": patient, "stale": stale})


@staff_only
def screening_edit(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request, pk, subject="screening")
    summary = selectors.screening_summary(patient)
    if request.method == "POST" and "all_no" in request.POST:
        # "No to the rest": every question still unknown becomes no, on the page only; the
        # person checks the answers with the patient and saves.
        form = ScreeningForm(ScreeningForm.rest_answered_no(request.POST), answers=summary.answers)
        form.is_valid()
        messages.info(
            request,
            _(
                "Every question still “unknown” now says “no”. Check them with the patient, "
                "then save."
            ),
        )
        return render(
            request,
            "patients/screening_form.html",
            {
                "patient": patient,
                "form": form,
                "to_review": patient_answers.answers_to_review(patient),
            },
        )
    form = ScreeningForm(request.POST or None, answers=summary.answers)
    if request.method == "POST" and form.is_valid():
        count = services.record_screening(
            patient=patient, answers=form.answers(), by=Actor.from_request(request)
        )
        messages.success(
            request, _("Screening saved (%(count)d answers changed).") % {"count": count}
        )
        return redirect("patients:detail", pk=patient.pk)
    context = {
        "patient": patient,
        "form": form,
        "to_review": patient_answers.answers_to_review(patient),
    }
    return render(request, "patients/screening_form.html", context)


@role_required(Role.DOCTOR)
@require_POST
def review_answers(request: HttpRequest, pk: int) -> HttpResponse:
    """The doctor went through the patient's online answers with them: accept them."""
    patient = get_patient_for_user(request, pk, roles=(Role.DOCTOR,), subject="screening")
    count = patient_answers.review_patient_answers(patient=patient, by=Actor.from_request(request))
    messages.success(request, _("%(count)d answers from the patient reviewed.") % {"count": count})
    target = request.POST.get("next", "")
    if "\x00" in target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return redirect("patients:detail", pk=patient.pk)
    return redirect(target)


@role_required(Role.DOCTOR)
def screening_history(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request, pk, subject="screening history")
    changes = ScreeningChange.objects.filter(patient=patient).select_related("changed_by")
    return render(
        request, "patients/screening_history.html", {"patient": patient, "changes": changes}
    )


@role_required(*MERGE_ROLES)
def patient_merge(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request, pk, roles=MERGE_ROLES)
    form = MergeForm(request.POST or None, initial={"duplicate_id": request.GET.get("duplicate")})
    if request.method == "POST" and form.is_valid():
        try:
            services.merge_patients(
                keep_id=patient.pk,
                duplicate_id=form.cleaned_data["duplicate_id"],
                reason=form.cleaned_data["reason"],
                by=Actor.from_request(request),
            )
        except services.PatientError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The records are merged."))
            return redirect("patients:detail", pk=patient.pk)
    duplicate_id = _int_or_none(request.POST.get("duplicate_id") or request.GET.get("duplicate"))
    duplicate = None
    if duplicate_id and duplicate_id != patient.pk:
        duplicate = Patient.objects.active().filter(pk=duplicate_id).first()
    if duplicate:
        audit.record(
            actor=Actor.from_request(request),
            patient=duplicate,
            action=AuditAction.VIEW,
            subject="merge preview",
        )
    return render(
        request, "patients/merge.html", {"patient": patient, "form": form, "duplicate": duplicate}
    )


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@staff_only
@require_POST
def patient_invite(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request, pk)
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("This page is out of date. Open it again and repeat your change.")
        )
        return redirect("patients:detail", pk=patient.pk)
    try:
        services.invite_to_portal(
            patient=patient,
            by=Actor.from_request(request),
            link_for=lambda token: request.build_absolute_uri(portal_link.welcome_path(token)),
            form_token=form.cleaned_data["form_token"],
        )
    except services.AlreadySaved:
        messages.info(request, _("The invitation was sent by the first click."))
    except services.PatientError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": patient.email})
    return redirect("patients:detail", pk=patient.pk)


def _export(request: HttpRequest, pk: int, file_format: str, url_name: str) -> HttpResponse:
    patient = get_patient_for_user(request, pk, subject="export")
    if patient.merged_into_id:
        # The rows followed the kept record; so does the export.
        return redirect(url_name, pk=patient.merged_into_id)
    made = services.export_patient(
        patient=patient, by=Actor.from_request(request), file_format=file_format
    )
    return download(made)


@staff_only
@require_POST
def patient_reset_two_factor(request: HttpRequest, pk: int) -> HttpResponse:
    """The patient lost the phone with their authenticator app (and their recovery codes):
    after the front desk has made sure who is asking, they log in with their password alone
    and may set it up again."""
    patient = get_patient_for_user(request, pk)
    if patient.portal_user is None:
        raise Http404
    two_factor.reset(account=patient.portal_user, by=Actor.from_request(request), patient=patient)
    messages.success(
        request,
        _(
            "Two-step login was reset: the patient logs in with their password and can set it "
            "up again from their account."
        ),
    )
    return redirect("patients:detail", pk=patient.pk)


@staff_only
def patient_export(request: HttpRequest, pk: int) -> HttpResponse:
    return _export(request, pk, FileFormat.JSON, "patients:export")


@staff_only
def patient_export_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return _export(request, pk, FileFormat.PDF, "patients:export_pdf")
