"""Consultation, plan, chart and adverse-event pages for doctors and the plan summary for the
front desk (the patient's own plans are in the portal app)."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from goodskin import links
from goodskin.actors import Actor
from goodskin.roles import STAFF_ROLES, Role, role_of, role_required
from patients import patient_answers
from patients.access import get_patient_for_user
from patients.selectors import screening_summary

from . import alerts, chart_rows, check_ins, diagram, eligibility, plan_panels, selectors, services
from .access import (
    get_adverse_event_for_user,
    get_chart_for_user,
    get_consultation_for_user,
    get_plan_for_user,
    get_treated_area_for_user,
    list_open_check_in_warnings,
    list_open_serious_events,
    list_unsigned_charts,
)
from .forms import (
    AdverseEventForm,
    AmendForm,
    AreaAmendForm,
    ChartForms,
    CheckInNoteForm,
    ClearanceForm,
    CloseEventForm,
    ConsultationForm,
    CosignForm,
    FollowUpForm,
    PlanForm,
    StopPlanForm,
)
from .models import AdverseEvent, CheckInReply, PlanStatus, TreatmentPlan, Visit

doctor_only = role_required(Role.DOCTOR)


def record_links(*, patient, role) -> list[links.Link]:
    """The patient's record links to their consultations, plans and charts."""
    text = _("Consultations, plans and charts") if role == Role.DOCTOR else _("Treatment plans")
    url = reverse("treatments:patient", args=[patient.pk])
    return [links.Link(text, url, group=_("Treatment"))]


def doctor_alerts(request: HttpRequest) -> dict:
    """What the doctor's home (scheduling.home, which adds the day) shows of this app: adverse
    events on their plans that alert, until resolved and acknowledged, and answers to the
    safety check-in with a warning sign, each with how its alert email fared; their charts
    still to sign."""
    events = list_open_serious_events(request)
    sent = alerts.delivery(events)
    replies = list_open_check_in_warnings(request)
    delivered = check_ins.alert_delivery(replies)
    return {
        "serious_events": [(event, sent.get(event.pk)) for event in events],
        "check_in_warnings": [(reply, delivered.get(reply.pk)) for reply in replies],
        "unsigned_charts": list_unsigned_charts(request),
    }


@doctor_only
@require_POST
def check_in_handle(request: HttpRequest, pk: int) -> HttpResponse:
    """A doctor says what was done about an answer with a warning sign."""
    form = CheckInNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say what was done (at most 1,000 characters)."))
        return redirect("doctor_home")
    try:
        check_ins.handle(
            reply_id=pk, note=form.cleaned_data["note"], by=Actor.from_request(request)
        )
    except CheckInReply.DoesNotExist:
        raise Http404 from None
    except check_ins.CheckInError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Marked as handled."))
    return redirect("doctor_home")


@doctor_only
@require_POST
def adverse_event_acknowledge(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    event = get_adverse_event_for_user(request, patient_pk, pk)
    try:
        services.acknowledge_adverse_event(event_id=event.pk, by=Actor.from_request(request))
    except services.TreatmentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Marked as seen."))
    return redirect("doctor_home")


staff_only = role_required(*STAFF_ROLES)


def _saved_twice(request: HttpRequest, error: services.AlreadySaved) -> None:
    messages.info(request, str(error))


@staff_only
def patient_treatments(request: HttpRequest, patient_pk: int) -> HttpResponse:
    """The patient's consultations, plans and adverse events (front desk: plans only)."""
    patient = get_patient_for_user(request, patient_pk, subject="treatments")
    is_doctor = role_of(request.user) == Role.DOCTOR
    plans = TreatmentPlan.objects.for_patient(patient).with_chart_count().select_related("doctor")
    context = {
        "patient": patient,
        "plans": plans,
        "is_doctor": is_doctor,
        "screening": screening_summary(patient),
    }
    if is_doctor:
        context["consultations"] = patient.consultations.select_related("doctor")
        context["events"] = AdverseEvent.objects.filter(plan__patient=patient).select_related(
            "plan"
        )
    return render(request, "treatments/patient_treatments.html", context)


@doctor_only
def consultation_create(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_patient_for_user(request, patient_pk, roles=(Role.DOCTOR,), subject="screening")
    screening = screening_summary(patient)
    form = ConsultationForm(request.POST or None, screening=screening)
    if request.method == "POST" and form.is_valid():
        try:
            consultation = services.record_consultation(
                patient=patient,
                data=form.service_data(),
                acknowledged=form.cleaned_data.get("acknowledged", []),
                by=Actor.from_request(request),
                form_token=form.cleaned_data["form_token"],
            )
        except services.AlreadySaved as error:
            _saved_twice(request, error)
            consultation = error.saved
        except services.TreatmentError as error:
            form.add_error(None, str(error))
            consultation = None
        if consultation:
            messages.success(request, _("Consultation saved."))
            return redirect("treatments:consultation", patient.pk, consultation.pk)
    context = {
        "patient": patient,
        "form": form,
        "screening": screening,
        "to_review": patient_answers.answers_to_review(patient),
    }
    return render(request, "treatments/consultation_form.html", context)


@doctor_only
def consultation_detail(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    consultation = get_consultation_for_user(request, patient_pk, pk)
    patient = consultation.patient
    context = {
        "patient": patient,
        "consultation": consultation,
        "screening": screening_summary(patient),
        "reviewed": _reviewed_rows(consultation),
    }
    return render(request, "treatments/consultation_detail.html", context)


def _reviewed_rows(consultation) -> list[tuple[str, str, bool]]:
    """(question, answer, acknowledged) for every question answered yes at the consultation."""
    from patients.screening import QUESTIONS

    return [
        (q.label, consultation.screening_reviewed[q.key], q.key in consultation.acknowledged)
        for q in QUESTIONS
        if consultation.screening_reviewed.get(q.key) == "yes"
    ]


@doctor_only
def plan_create(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_patient_for_user(request, patient_pk, roles=(Role.DOCTOR,), subject="screening")
    clinic = selectors.get_clinic_settings()
    screening = screening_summary(patient)
    form = PlanForm(request.POST or None, patient=patient, clinic=clinic)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = services.create_plan(
                patient=patient,
                consultation=data["consultation"],
                areas=data["areas"],
                sessions=data["sessions"],
                interval_weeks=data["interval_weeks"],
                hose_days=data["hose_days"],
                start=data["start"],
                notes=data["notes"],
                by=Actor.from_request(request),
                form_token=data["form_token"],
                override_reason=data["override_reason"],
            )
        except services.AlreadySaved as error:
            _saved_twice(request, error)
            plan = error.saved
        except services.TreatmentError as error:
            form.add_error(None, str(error))
            plan = None
        if plan:
            messages.success(request, _("Treatment plan saved."))
            return redirect("treatments:plan", patient.pk, plan.pk)
    chosen = form["areas"].value() or []
    context = {
        "patient": patient,
        "form": form,
        "screening": screening,
        "clinic": clinic,
        "diagram": diagram.build(selected=chosen),
    }
    return render(request, "treatments/plan_form.html", context)


@staff_only
def plan_detail(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    """Doctors see the whole plan; the front desk sees its summary, without chart details."""
    return _plan_page(request, get_plan_for_user(request, patient_pk, pk))


def _plan_page(request: HttpRequest, plan: TreatmentPlan, gate_form=None) -> HttpResponse:
    """The plan's page for the role asking (`gate_form`: a doctor's clearance form to show
    again, with its errors)."""
    is_doctor = role_of(request.user) == Role.DOCTOR
    context = {
        "patient": plan.patient,
        "plan": plan,
        "progress": selectors.plan_progress(plan),
        "screening": screening_summary(plan.patient),
        "is_doctor": is_doctor,
        "panels": plan_panels.for_plan(request, plan),
        **_eligibility(plan, is_doctor=is_doctor, form=gate_form),
    }
    if is_doctor:
        context["stop_form"] = StopPlanForm()
        context["events"] = plan.adverse_events.all()
        context["legend"] = diagram.legend()
        return render(request, "treatments/plan_detail.html", context)
    context["links"] = links.for_place(links.PLAN_SUMMARY, plan=plan, role=role_of(request.user))
    return render(request, "treatments/plan_summary.html", context)


def _eligibility(plan: TreatmentPlan, *, is_doctor: bool, form=None) -> dict:
    """What the plan's page shows of the eligibility gate: for its next visit, what stops it
    and (for a doctor) the form that clears it, the clearances so far and the screening's
    changes since the plan was made."""
    if plan.status == PlanStatus.STOPPED:
        return {}
    visit = eligibility.next_visits([plan])[plan.pk]
    verdict = eligibility.assess(plan, session=visit)
    problems = verdict.stops(eligibility.Step.CHART)
    if is_doctor and problems and form is None:
        form = ClearanceForm(keys=[p.key for p in problems], visit=visit)
    return {
        "gate_visit": visit,
        "gate_problems": problems,
        "gate_form": form if problems else None,
        "clearances": plan.clearances.select_related("by"),
        "screening_changes": eligibility.changes_since(plan),
    }


@doctor_only
@require_POST
def plan_clear(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    """A doctor overrides or acknowledges what the eligibility gate found for the plan."""
    plan = get_plan_for_user(request, patient_pk, pk, roles=(Role.DOCTOR,))
    visit = eligibility.next_visits([plan])[plan.pk]
    verdict = eligibility.assess(plan, session=visit)
    keys = [p.key for p in verdict.stops(eligibility.Step.CHART)]
    form = ClearanceForm(request.POST, keys=keys, visit=visit)
    if not form.is_valid():
        if form.has_error("key"):
            messages.error(
                request, _("The screening changed since this page was opened. Look at it again.")
            )
            return redirect("treatments:plan", plan.patient_id, plan.pk)
        messages.error(request, _("Check the form below."))
    else:
        try:
            services.clear_for_treatment(
                plan=plan,
                keys=form.cleaned_data["key"],
                session=form.session(),
                reason=form.cleaned_data["reason"],
                by=Actor.from_request(request),
            )
        except services.TreatmentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Saved: treatment may go ahead."))
            return redirect("treatments:plan", plan.patient_id, plan.pk)
    return _plan_page(request, plan, gate_form=form)


@doctor_only
@require_POST
def plan_status(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    plan = get_plan_for_user(request, patient_pk, pk, roles=(Role.DOCTOR,))
    status = request.POST.get("status", "")
    form = StopPlanForm(request.POST) if status == PlanStatus.STOPPED else None
    if form is not None and not form.is_valid():
        messages.error(request, _("Say why the plan stops."))
        return redirect("treatments:plan", plan.patient_id, plan.pk)
    try:
        services.set_plan_status(
            plan=plan,
            status=status,
            reason=form.cleaned_data["reason"] if form else "",
            by=Actor.from_request(request),
        )
    except services.TreatmentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The plan's status is changed."))
    return redirect("treatments:plan", plan.patient_id, plan.pk)


@doctor_only
def chart_create(
    request: HttpRequest, patient_pk: int, pk: int, visit: str = Visit.SESSION
) -> HttpResponse:
    """Chart the plan's next session, or (the touch-up address) a touch-up visit."""
    plan = get_plan_for_user(request, patient_pk, pk, roles=(Role.DOCTOR,))
    clinic = selectors.get_clinic_settings()
    forms = ChartForms(request.POST if request.method == "POST" else None, clinic=clinic)
    refreshing = "refresh" in request.POST
    if request.method == "POST" and not refreshing and forms.is_valid():
        chart = _record_session(request, plan, forms, visit)
        if chart:
            return redirect("treatments:chart", plan.patient_id, chart.pk)
    progress = selectors.plan_progress(plan)
    chosen = forms.chosen if request.method == "POST" else []
    context = {
        "patient": plan.patient,
        "plan": plan,
        "forms": forms,
        "form": forms.main,
        "area_rows": chart_rows.write(forms.rows()),
        "progress": progress,
        "number": progress.sessions_done + 1,
        "touch_up": visit == Visit.TOUCH_UP,
        "screening": screening_summary(plan.patient),
        "check_in_replies": check_ins.said_before(plan, timezone.localdate()),
        "diagram": diagram.build(selected=chosen, planned=plan.areas),
        "clinic": clinic,
        "volume": selectors.volume_check(_typed_areas(forms), clinic, forms.agents),
        "volume_warnings": _volume_warnings(forms, clinic),
        # Each agent's maximum per session, for the running total the browser keeps.
        "session_maxima": {
            agent: str(most) for agent, most in selectors.session_maxima(forms.agents).items()
        },
    }
    return render(request, "treatments/chart_form.html", context)


def _volume_warnings(forms: ChartForms, clinic) -> list[str]:
    """The warnings the doctor confirms by ticking the box, for the areas typed so far."""
    typed = [
        {"region": form.region, **form.cleaned_data}
        for form, shown in forms.rows()
        if shown and form.is_bound and form.is_valid()
    ]
    return selectors.volume_warnings(typed, clinic, forms.agents)


def _typed_areas(forms: ChartForms) -> list[dict]:
    """The areas as typed so far, for the running total (bad numbers count as nothing)."""
    typed = []
    for form, shown in forms.rows():
        if shown and form.is_bound and form.is_valid():
            typed.append(form.cleaned_data)
    return typed


def _record_session(request: HttpRequest, plan: TreatmentPlan, forms: ChartForms, visit: str):
    data = forms.main.cleaned_data
    try:
        chart = services.record_session(
            plan=plan,
            treated_on=data["treated_on"],
            areas=forms.area_data(),
            immediate_reactions=data["immediate_reactions"],
            compression=data["compression"],
            notes=data["notes"],
            sign=data["sign"],
            by=Actor.from_request(request),
            form_token=data["form_token"],
            visit=visit,
            volumes_confirmed=data["confirm_volumes"],
        )
    except services.AlreadySaved as error:
        _saved_twice(request, error)
        return error.saved
    except services.TreatmentError as error:
        forms.main.add_error(None, str(error))
        return None
    if chart.is_touch_up:
        messages.success(request, _("The touch-up is charted."))
    else:
        messages.success(request, _("Session %(number)d is charted.") % {"number": chart.number})
    return chart


@doctor_only
def chart_detail(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    chart = get_chart_for_user(request, patient_pk, pk)
    areas = list(chart.areas.all())
    clinic = selectors.get_clinic_settings()
    cosignatures = list(chart.cosignatures.select_related("doctor"))
    treating = chart.doctor_id == request.user.pk
    may_cosign = (
        chart.is_signed
        and not treating
        and all(c.doctor_id != request.user.pk for c in cosignatures)
    )
    context = {
        "patient": chart.plan.patient,
        "plan": chart.plan,
        "chart": chart,
        "areas": areas,
        "treating": treating,
        "cosignatures": cosignatures,
        "cosign_form": CosignForm() if may_cosign else None,
        "amendments": chart.amendments.select_related("by"),
        "volume": selectors.volume_check(areas, clinic),
        "clinic": clinic,
        "diagram": diagram.build(counts={a.region: 1 for a in areas}),
        "screening": screening_summary(chart.plan.patient),
        "check_in_replies": check_ins.said_before(chart.plan, chart.treated_on),
        "links": links.for_place(links.SESSION_CHART, chart=chart, role=role_of(request.user)),
    }
    return render(request, "treatments/chart_detail.html", context)


@doctor_only
@require_POST
def chart_sign(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    chart = get_chart_for_user(request, patient_pk, pk)
    try:
        services.sign_chart(chart=chart, by=Actor.from_request(request))
    except services.TreatmentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The chart is signed."))
    return redirect("treatments:chart", patient_pk, chart.pk)


@doctor_only
@require_POST
def chart_cosign(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    chart = get_chart_for_user(request, patient_pk, pk)
    form = CosignForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("note", [])))
        return redirect("treatments:chart", patient_pk, chart.pk)
    try:
        services.cosign_chart(
            chart=chart, by=Actor.from_request(request), note=form.cleaned_data["note"]
        )
    except services.TreatmentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("You co-signed the chart."))
    return redirect("treatments:chart", patient_pk, chart.pk)


@doctor_only
def chart_amend(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    chart = get_chart_for_user(request, patient_pk, pk)
    form = AmendForm(request.POST or None, signed=chart.is_signed)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_chart_text(
                chart=chart,
                field=form.cleaned_data["field"],
                new_text=form.cleaned_data["new_text"],
                reason=form.cleaned_data["reason"],
                by=Actor.from_request(request),
            )
        except services.TreatmentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The chart is changed; the earlier text is kept."))
            return redirect("treatments:chart", patient_pk, chart.pk)
    context = {"patient": chart.plan.patient, "chart": chart, "form": form}
    return render(request, "treatments/chart_amend.html", context)


@doctor_only
def area_amend(request: HttpRequest, patient_pk: int, pk: int, area_pk: int) -> HttpResponse:
    """Correct a treated area's values; on a signed chart each change is an amendment."""
    area = get_treated_area_for_user(request, patient_pk, pk, area_pk)
    chart = area.chart
    form = AreaAmendForm(request.POST or None, area=area, signed=chart.is_signed)
    warnings: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            services.amend_treated_area(
                chart=chart,
                area=area,
                data=form.service_data(),
                reason=form.cleaned_data["reason"],
                by=Actor.from_request(request),
                shown=form.cleaned_data["shown"],
                volumes_confirmed=form.cleaned_data["confirm_volumes"],
            )
        except services.VolumesNotConfirmed as error:
            form.add_error(None, str(error))
            warnings = error.warnings
        except services.TreatmentError as error:
            form.add_error(None, str(error))
        else:
            if chart.is_signed:
                messages.success(request, _("The area is corrected; the earlier values are kept."))
            else:
                messages.success(request, _("The area is changed."))
            return redirect("treatments:chart", patient_pk, chart.pk)
    context = {
        "patient": chart.plan.patient,
        "chart": chart,
        "area": area,
        "form": form,
        "volume_warnings": warnings,
    }
    return render(request, "treatments/area_amend.html", context)


@doctor_only
def adverse_event_create(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    plan = get_plan_for_user(request, patient_pk, pk, roles=(Role.DOCTOR,))
    form = AdverseEventForm(request.POST or None, plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            event = services.report_adverse_event(
                plan=plan,
                data=form.service_data(),
                by=Actor.from_request(request),
                form_token=form.cleaned_data["form_token"],
            )
        except services.AlreadySaved as error:
            _saved_twice(request, error)
            event = error.saved
        except services.TreatmentError as error:
            form.add_error(None, str(error))
            event = None
        if event:
            messages.success(request, _("Adverse event recorded."))
            return redirect("treatments:plan", plan.patient_id, plan.pk)
    context = {
        "patient": plan.patient,
        "plan": plan,
        "form": form,
        "event": None,
        "clinic": selectors.get_clinic_settings(),
    }
    return render(request, "treatments/adverse_event_form.html", context)


def _event_page(request: HttpRequest, event: AdverseEvent, **forms) -> HttpResponse:
    """The event with its follow-ups in date order and the forms to add one or close it."""
    plan = event.plan
    context = {
        "patient": plan.patient,
        "plan": plan,
        "event": event,
        "clinic": selectors.get_clinic_settings(),
        "follow_ups": selectors.follow_ups(event),
        "form": forms.get("form") or AdverseEventForm(instance=event, plan=plan),
        "follow_up_form": forms.get("follow_up_form") or FollowUpForm(),
        "close_form": forms.get("close_form")
        or CloseEventForm(initial={"resolved_on": timezone.localdate()}),
    }
    return render(request, "treatments/adverse_event_form.html", context)


@doctor_only
def adverse_event_edit(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    event = get_adverse_event_for_user(request, patient_pk, pk)
    plan = event.plan
    form = AdverseEventForm(request.POST or None, instance=event, plan=plan)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        try:
            services.update_adverse_event(event=event, data=data, by=Actor.from_request(request))
        except services.TreatmentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Adverse event updated."))
            return redirect("treatments:plan", plan.patient_id, plan.pk)
    return _event_page(request, event, form=form)


@doctor_only
@require_POST
def adverse_event_follow_up(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    event = get_adverse_event_for_user(request, patient_pk, pk)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            services.add_follow_up(
                event=event, data=form.service_data(), by=Actor.from_request(request)
            )
        except services.AlreadySaved as error:
            _saved_twice(request, error)
        except services.TreatmentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Follow-up added."))
        if not form.errors:
            return redirect("treatments:event", event.plan.patient_id, event.pk)
    return _event_page(request, event, follow_up_form=form)


@doctor_only
@require_POST
def adverse_event_close(request: HttpRequest, patient_pk: int, pk: int) -> HttpResponse:
    event = get_adverse_event_for_user(request, patient_pk, pk)
    form = CloseEventForm(request.POST)
    if form.is_valid():
        try:
            services.close_adverse_event(
                event=event,
                resolved_on=form.cleaned_data["resolved_on"],
                outcome=form.cleaned_data["outcome"],
                by=Actor.from_request(request),
            )
        except services.TreatmentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The event is closed."))
            return redirect("treatments:event", event.plan.patient_id, event.pk)
    return _event_page(request, event, close_form=form)
