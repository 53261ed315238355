"""Scheduling pages: the day and week views, a doctor's own day, free times, booking one
appointment or a plan's series, an appointment's page (move, cancel, status) and time off.

The front desk books and changes; doctors see the days, set a visit's status and block time;
patients reach none of it (their own schedule is in the portal)."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from goodskin import links
from goodskin.actors import Actor
from goodskin.fields import date_param
from goodskin.roles import STAFF_ROLES, Role, role_of, role_required
from messaging import selectors as message_selectors
from patients import audit
from patients import services as patient_services
from patients.access import get_patient_for_user, search_patients_for_user
from patients.forms import ScreeningForm
from patients.models import Patient
from patients.selectors import screening_summary
from treatments.models import PlanStatus

from . import (
    aftercare_sheet,
    clock,
    day_page,
    free_times_cache,
    gate,
    online_booking_link,
    printout_views,
    rules,
    selectors,
    services,
    slot_chips,
    week_page,
)
from .access import (
    BOOKING_ROLES,
    get_appointment_for_user,
    get_plan_for_booking,
    record_schedule_read,
)
from .forms import (
    AppointmentForm,
    CancelForm,
    MoveForm,
    ResolveOnlineRequestForm,
    SeriesForm,
    SlotSearchForm,
    StatusForm,
    TimeOffForm,
)
from .models import BookingRequest, DayPart, Kind, Status, TimeOff
from .services import online_booking
from .slots import free_slots

staff_only = role_required(*STAFF_ROLES)


def _clinic_zone():
    """The clinic's time zone: its first location's, or the setting's before one is set up
    (a fresh database's pages must still open)."""
    location = services.first_location()
    return clock.zone(location.time_zone if location else settings.CLINIC_TIME_ZONE)


def _day_from(request: HttpRequest, tz) -> date:
    """?date=YYYY-MM-DD, or today in clinic time when missing, malformed or out of range."""
    today = timezone.localdate(timezone.now(), tz)
    return date_param(request.GET.get("date"), default=today)


def _zone_and_offices(request: HttpRequest) -> tuple:
    """The clinic's time zone (_clinic_zone) and the office filter of the day and week views
    (?location=<id>: one office's appointments, or every office's, the default; the offices
    to choose from, none when there is only one; and the query that keeps the choice in the
    page's links), from one read of the offices."""
    every = services.every_location()
    tz = clock.zone(every[0].time_zone if every else settings.CLINIC_TIME_ZONE)
    in_use = sorted((o for o in every if o.active), key=lambda o: (o.name, o.pk))
    chosen = selectors.office_id(request.GET.get("location"))
    office = next((o for o in in_use if o.pk == chosen), None)
    return tz, {
        "office": office,
        "offices": in_use if len(in_use) > 1 else [],
        "office_query": f"&location={office.pk}" if office else "",
    }


@staff_only
def day_view(request: HttpRequest) -> HttpResponse:
    tz, offices = _zone_and_offices(request)
    day = _day_from(request, tz)
    by_room = request.GET.get("by") == "room"
    kept = day_page.page(day, tz, by_room=by_room, office=offices["office"])
    record_schedule_read(request, f"day view {day.isoformat()}", kept.shown)
    context = {
        "day": day,
        "tz": tz.key,
        "columns": kept.columns(request.get_full_path(), get_token(request)),
        "shown": kept.shown,
        "by_room": by_room,
        "closed": kept.closed,
        "previous": day - timedelta(days=1),
        "next": day + timedelta(days=1),
        "today": timezone.localdate(timezone.now(), tz),
        "can_book": role_of(request.user) in BOOKING_ROLES,
        **offices,
    }
    return render(request, "scheduling/day.html", context)


@staff_only
def week_view(request: HttpRequest) -> HttpResponse:
    tz, offices = _zone_and_offices(request)
    day = _day_from(request, tz)
    monday = day - timedelta(days=day.weekday())
    kept = week_page.page(
        monday, tz, office=offices["office"], office_query=offices["office_query"]
    )
    record_schedule_read(request, f"week view {monday.isoformat()}", kept.shown)
    context = {
        "monday": monday,
        "sunday": monday + timedelta(days=6),
        "tz": tz.key,
        "table": kept.html,
        "shown": kept.shown,
        "previous": monday - timedelta(days=7),
        "next": monday + timedelta(days=7),
        "today": timezone.localdate(timezone.now(), tz),
        **offices,
    }
    return render(request, "scheduling/week.html", context)


@role_required(Role.DOCTOR)
def my_day(request: HttpRequest) -> HttpResponse:
    tz = _clinic_zone()
    day = _day_from(request, tz)
    visits = selectors.doctor_day(request.user, day, tz)
    record_schedule_read(request, f"my day {day.isoformat()}", [v.appointment for v in visits])
    context = {
        "day": day,
        "tz": tz.key,
        "visits": visits,
        "previous": day - timedelta(days=1),
        "next": day + timedelta(days=1),
        "today": timezone.localdate(timezone.now(), tz),
    }
    return render(request, "scheduling/my_day.html", context)


def _patient_or_none(pk: int | None):
    if not pk:
        return None
    return Patient.objects.active().filter(pk=pk).first()


@staff_only
def slot_search(request: HttpRequest) -> HttpResponse:
    tz = _clinic_zone()
    today = timezone.localdate(timezone.now(), tz)
    defaults = {"kind": Kind.CONSULTATION, "first_day": today, "last_day": today + timedelta(13)}
    # A link that names only some of the search (the record's "Book next session" names the
    # patient, the kind and the doctor) searches the usual two weeks.
    params = request.GET.copy()
    if params:
        for key, value in defaults.items():
            params.setdefault(key, value.isoformat() if hasattr(value, "isoformat") else value)
    form = SlotSearchForm(params or None, initial=defaults)
    patient, plan, matches = None, None, []
    if form.is_valid():
        data = form.cleaned_data
        if data["patient"]:
            patient = get_patient_for_user(request, data["patient"], subject="free times")
        elif data["who"]:
            patient, matches = _find_patient(request, form, data["who"])
        if data["kind"] == Kind.SESSION:
            plan = patient and patient.treatment_plans.filter(status=PlanStatus.ACTIVE).first()
            if plan is None and not matches:
                form.add_error("who", _("A session needs a patient with an active plan."))
    # Each free time names its office when there is more than one to choose from.
    many_offices = len(form.offices) > 1
    context = {
        "form": form,
        "many_offices": many_offices,
        "patient": patient,
        "plan": plan,
        "tz": tz.key,
        "matches": matches,
        "without_patient": _query_with(request, patient=None),
    }
    if form.is_valid():
        context["results"] = _results(request, form, context, plan, patient, tz).html
    return render(request, "scheduling/slots.html", context)


def _results(request: HttpRequest, form, context: dict, plan, patient, tz):
    """The search's results as the page shows them (the first free time, then the days),
    kept while nothing they are worked out from has changed (free_times_cache). A search
    worked out here also leaves its days, first free time and rows in `context`."""
    data = form.cleaned_data
    many_offices = context["many_offices"]
    people = [data["doctor"]] if data["doctor"] else form.doctors

    def write() -> free_times_cache.Kept:
        days = _free_days(data, plan, patient, tz, form.doctors, form.offices)
        chips = slot_chips.write(
            [slot for _day, slots in days for slot in slots],
            tz=tz,
            patient=patient,
            kind=data["kind"],
            plan=plan,
            many_offices=many_offices,
        )
        by_doctor = _by_doctor(days, chips)
        first_free = days[0][1][0] if days else None
        context.update(days=days, by_doctor=by_doctor, first_free=first_free)
        written = {
            "by_doctor": by_doctor,
            "free_days": slot_chips.write_days(by_doctor, many_offices=many_offices),
            "first_free": first_free,
            "kind": data["kind"],
            "patient": patient,
            "plan": plan,
            "many_offices": many_offices,
        }
        with timezone.override(tz):
            html = render_to_string("scheduling/_free_times.html", written)
        first = int(first_free.starts_at.timestamp()) if first_free else None
        return free_times_cache.Kept(html, first)

    return free_times_cache.kept(
        first_day=data["first_day"],
        last_day=data["last_day"],
        doctor_ids=[d.pk for d in people],
        plan_id=plan.pk if plan else None,
        parts=(
            data["kind"],
            data["doctor"].pk if data["doctor"] else "-",
            data["location"].pk if data.get("location") else "-",
            ",".join(str(o.pk) for o in form.offices),
            data.get("part") or "-",
            patient.pk if patient else "-",
            tz.key,
            timezone.localdate(timezone.now(), tz),
        ),
        write=write,
    )


# How many patients a name may match before the front desk is asked to type more.
MATCHES_SHOWN = 10


def _find_patient(request: HttpRequest, form, who: str) -> tuple:
    """The one patient `who` names, or the few it could mean (each with the address that
    chooses it), or a form error."""
    found, more = search_patients_for_user(
        request, who, limit=MATCHES_SHOWN, subject="free times search"
    )
    if len(found) == 1 and not more:
        return get_patient_for_user(request, found[0].pk, subject="free times"), []
    if not found:
        form.add_error("who", _("No patient matches “%(who)s”.") % {"who": who})
    elif more:
        form.add_error(
            "who", _("Many patients match “%(who)s”: type more of the name.") % {"who": who}
        )
    return None, [(p, _query_with(request, patient=p.pk)) for p in found]


def _query_with(request: HttpRequest, *, patient: int | None) -> str:
    """This search's query string with the patient chosen (or cleared) instead of typed."""
    params = request.GET.copy()
    params.pop("who", None)
    params.pop("patient", None)
    if patient:
        params["patient"] = patient
    return "?" + params.urlencode()


def _free_days(data: dict, plan, patient, tz, doctors, offices) -> list[tuple[date, list]]:
    """Free times by day, outside the named patient's other appointments; `doctors` and
    `offices`: every doctor and office in use, as the form read them."""
    settings = services.scheduling_settings()
    people = [data["doctor"]] if data["doctor"] else doctors
    # The chosen office, or every office in use; only those that offer the kind of visit.
    offices = [data["location"]] if data.get("location") else offices
    slots = free_slots(
        doctor_ids=[d.pk for d in people],
        doctors=people,
        locations=[office for office in offices if office.offers(data["kind"])],
        first_day=data["first_day"],
        last_day=data["last_day"],
        minutes=services.minutes_for(data["kind"], plan, settings=settings),
        step_minutes=settings.slot_step_minutes,
        buffer_minutes=settings.buffer_minutes,
        patient_id=patient.pk if patient else None,
    )
    part = data.get("part")
    days: dict[date, list] = {}
    for slot in slots:
        local = slot.starts_at.astimezone(tz)
        if not rules.in_part(part, local):
            continue
        days.setdefault(local.date(), []).append(slot)
    return list(days.items())


# How many times of a doctor's day the free-time page shows before "more".
SHOWN_PER_DOCTOR = 6


@dataclass(frozen=True)
class DoctorDay:
    """One doctor's free times of a day at one office, as the page shows them: the first
    few, then more, each with its button (slot_chips)."""

    doctor: object
    shown: list
    more: list
    location: object = None
    shown_chips: list = field(default_factory=list)
    more_chips: list = field(default_factory=list)


def _by_doctor(
    days: list[tuple[date, list]], chips: list | None = None
) -> list[tuple[date, int, list[DoctorDay]]]:
    """(day, how many times, each doctor's times at each office) for the compact free-time
    page; `chips`: the buttons of the days' free times, in their order."""
    buttons = iter(chips or [])
    grouped = []
    for day, slots in days:
        doctors: dict[tuple, list] = {}
        for slot in slots:
            doctors.setdefault((slot.doctor.pk, slot.location.pk), []).append(
                (slot, next(buttons, ""))
            )
        rows = [
            DoctorDay(
                pairs[0][0].doctor,
                [slot for slot, _chip in pairs[:SHOWN_PER_DOCTOR]],
                [slot for slot, _chip in pairs[SHOWN_PER_DOCTOR:]],
                pairs[0][0].location,
                [chip for _slot, chip in pairs[:SHOWN_PER_DOCTOR]],
                [chip for _slot, chip in pairs[SHOWN_PER_DOCTOR:]],
            )
            for pairs in sorted(
                doctors.values(),
                key=lambda p: (p[0][0].doctor.get_full_name(), p[0][0].location.name),
            )
        ]
        grouped.append((day, len(slots), rows))
    return grouped


def book_appointment(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request, pk, roles=BOOKING_ROLES, subject="booking")
    tz = _clinic_zone()
    initial = {
        k: request.GET[k]
        for k in ("kind", "doctor", "date", "time", "plan", "location")
        if k in request.GET
    }
    form = AppointmentForm(request.POST or None, patient=patient, tz=tz, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appointment = services.book_appointment(
                patient=patient,
                doctor=data["doctor"],
                kind=data["kind"],
                starts_at=data["starts_at"],
                plan=data["plan"],
                session_number=data["session_number"],
                location=data["location"],
                notes=data["notes"],
                open_anyway=data["open_anyway"],
                by=Actor.from_request(request),
            )
        except services.BookingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The appointment is booked."))
            return redirect("scheduling:appointment", appointment.pk)
    context = {
        "patient": patient,
        "form": form,
        "tz": tz.key,
        "screening": screening_summary(patient),
    }
    return render(request, "scheduling/book.html", context)


def book_series(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_plan_for_booking(request, pk)
    tz = _clinic_zone()
    numbers = services.remaining_sessions(plan)
    chosen = request.POST.get("location") or request.GET.get("location")
    office = selectors.office_from(chosen) or services.plan_office(plan)
    part = request.GET.get("part", "")
    part = part if part in DayPart.values else DayPart.ANY
    proposals = {}
    if request.method != "POST" and numbers:
        proposals = {
            p.number: p.starts_at
            for p in services.propose_series(plan=plan, location=office, part=part)
        }
    form = SeriesForm(request.POST or None, numbers=numbers, tz=tz, initial_starts=proposals)
    problems, checked = {}, False
    if request.method == "POST" and form.is_valid():
        starts, open_anyway = form.cleaned_data["starts"], form.cleaned_data["open_anyway"]
        if request.POST.get("action") == "book":
            try:
                booked = services.book_series(
                    plan=plan,
                    starts=starts,
                    open_anyway=open_anyway,
                    location=office,
                    by=Actor.from_request(request),
                )
            except services.BookingError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("%(n)d sessions are booked.") % {"n": len(booked)})
                return redirect("scheduling:book_series", plan.pk)
        else:
            problems = selectors.series_problems(
                plan, starts, open_anyway=open_anyway, location=office
            )
            checked = True
    rows = [(n, d, t, problems.get(n)) for n, d, t in form.rows()]
    context = {
        "plan": plan,
        "patient": plan.patient,
        "form": form,
        "rows": rows,
        "checked": checked,
        "blocker": selectors.plan_blocker(plan),
        "booked": selectors.plan_appointments(plan),
        "tz": tz.key,
        "office": office,
        "offices": list(selectors.offices_in_use()),
        "part": part,
        "parts": DayPart.choices,
    }
    return render(request, "scheduling/series.html", context)


def plan_links(*, plan, role) -> list[links.Link]:
    """A plan's summary offers to book its sessions while the plan is active."""
    if plan.status != PlanStatus.ACTIVE or role not in STAFF_ROLES:
        return []
    url = reverse("scheduling:book_series", args=[plan.pk])
    return [links.Link(_("Book the sessions"), url, primary=True)]


def chart_links(*, chart, role) -> list[links.Link]:
    """A session's or touch-up's chart offers the aftercare sheet of its visit, to print for
    the patient (the visit of that plan's session, or the patient's touch-up, on that day)."""
    if role not in STAFF_ROLES:
        return []
    visit = selectors.charted_visit(chart, _clinic_zone())
    if visit is None:
        return []
    return [
        links.Link(
            _("Aftercare sheet to print"), reverse("scheduling:aftercare_sheet", args=[visit.pk])
        ),
        links.Link(
            _("Aftercare sheet (PDF)"), reverse("scheduling:aftercare_sheet_pdf", args=[visit.pk])
        ),
    ]


def _detail(request: HttpRequest, appointment, **forms) -> HttpResponse:
    tz = clock.zone(appointment.location.time_zone)
    today = timezone.localdate(timezone.now(), tz)
    version = {"version": appointment.version}
    can_change = role_of(request.user) in BOOKING_ROLES and appointment.status == Status.BOOKED
    local = appointment.starts_at.astimezone(tz)
    buttons = selectors.status_buttons(appointment, today, tz)
    flag = gate.flag(appointment) if appointment.status == Status.BOOKED else None
    if flag is not None and (flag.blocked or flag.rescreen.needed):
        buttons = [b for b in buttons if b[0] not in selectors.ARRIVING]
    context = {
        "appointment": appointment,
        "patient": appointment.patient,
        "tz": tz.key,
        "history": selectors.history(appointment, tz),
        "buttons": buttons,
        "flag": flag,
        "can_rescreen": local.date() <= today,
        "can_change": can_change,
        "move_form": forms.get("move_form")
        or MoveForm(tz=tz, initial={**version, "date": local.date(), "time": local.time()}),
        "cancel_form": forms.get("cancel_form") or CancelForm(initial=version),
        "later_sessions": forms.get("later_sessions"),
        "treatment": appointment.kind in aftercare_sheet.TREATMENTS,
        "no_advice": aftercare_sheet.no_advice_note(appointment.patient)
        if appointment.kind in aftercare_sheet.TREATMENTS
        else "",
    }
    return render(request, "scheduling/appointment.html", context)


def appointment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, get_appointment_for_user(request, pk))


def appointment_aftercare_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    """The aftercare of a treatment visit on one printable page, for the staff to hand to a
    patient whom the messages won't reach (or anyone who asks for it on paper)."""
    return printout_views.sheet_page(
        request,
        _sheet_appointment(request, pk),
        back_url=reverse("scheduling:appointment", args=[pk]),
        pdf_url=reverse("scheduling:aftercare_sheet_pdf", args=[pk]),
    )


def appointment_aftercare_sheet_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The same sheet as a PDF, in the patient's language (the download is audited)."""
    return printout_views.sheet_pdf(request, _sheet_appointment(request, pk))


def _sheet_appointment(request: HttpRequest, pk: int):
    appointment = get_appointment_for_user(request, pk)
    if appointment.kind not in aftercare_sheet.TREATMENTS:
        raise Http404
    return appointment


def _refresh_version(form, appointment) -> None:
    """After a refusal because of someone else's change, the next try is against the change
    the person now sees on the page."""
    appointment.refresh_from_db()
    form.data = form.data.copy()
    form.data["version"] = appointment.version


def appointment_move(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = get_appointment_for_user(request, pk, roles=BOOKING_ROLES)
    if request.method != "POST":
        return redirect("scheduling:appointment", appointment.pk)
    form = MoveForm(request.POST, tz=clock.zone(appointment.location.time_zone))
    if not form.is_valid():
        return _detail(request, appointment, move_form=form)
    data = form.cleaned_data
    try:
        moved = services.move_appointment(
            appointment=appointment,
            starts_at=data["starts_at"],
            version=data["version"],
            shift_later=data["shift_later"],
            open_anyway=data["open_anyway"],
            by=Actor.from_request(request),
        )
    except services.LaterSessionsTooClose as error:
        form.data = form.data.copy()
        form.data["shift_later"] = "on"
        return _detail(request, appointment, move_form=form, later_sessions=error.sessions)
    except services.BookingError as error:
        form.add_error(None, str(error))
        _refresh_version(form, appointment)
        return _detail(request, appointment, move_form=form)
    if len(moved) > 1:
        messages.success(request, _("Moved, with %(n)d later sessions.") % {"n": len(moved) - 1})
    else:
        messages.success(request, _("The appointment is moved."))
    return redirect("scheduling:appointment", appointment.pk)


def appointment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = get_appointment_for_user(request, pk, roles=BOOKING_ROLES)
    if request.method != "POST":
        return redirect("scheduling:appointment", appointment.pk)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            cancelled = services.cancel_appointment(
                appointment=appointment,
                cancelled_by=form.cleaned_data["cancelled_by"],
                reason=form.cleaned_data["reason"],
                version=form.cleaned_data["version"],
                by=Actor.from_request(request),
            )
        except services.BookingError as error:
            form.add_error(None, str(error))
            _refresh_version(form, appointment)
        else:
            if cancelled.late_cancel:
                messages.warning(request, _("Cancelled. This is a late cancellation."))
            else:
                messages.success(request, _("The appointment is cancelled."))
            return redirect("scheduling:appointment", appointment.pk)
    return _detail(request, appointment, cancel_form=form)


def appointment_status(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = get_appointment_for_user(request, pk)
    if request.method != "POST":
        return redirect("scheduling:appointment", appointment.pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("That status change was not understood."))
    else:
        try:
            services.set_status(
                appointment=appointment,
                status=form.cleaned_data["status"],
                version=form.cleaned_data["version"],
                by=Actor.from_request(request),
            )
        except services.BookingError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("%(name)s: %(status)s.")
                % {
                    "name": appointment.patient.full_name,
                    "status": Status(form.cleaned_data["status"]).label,
                },
            )
    return _back_to(request, redirect("scheduling:appointment", appointment.pk))


def _back_to(request: HttpRequest, fallback):
    target = request.POST.get("next", "") or request.GET.get("next", "")
    # A path of this site only, printable (a line break in a Location header is an error), and
    # a plain redirect: redirect() would read "foo" as the name of a URL to reverse.
    if (
        target.startswith("/")
        and target.isprintable()
        and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    ):
        return HttpResponseRedirect(target)
    return fallback


@staff_only
def rescreen(request: HttpRequest, pk: int) -> HttpResponse:
    """Check-in through a re-screen: the front desk goes through the screening with the
    patient (answers older than the clinic's limit, or changed since the plan was made, are
    highlighted), saves it as confirmed, and the check-in follows if the gate lets it. The
    answers are kept even when the gate then stops the check-in: they are what the patient
    said."""
    appointment = get_appointment_for_user(request, pk)
    flag = gate.flag(appointment)
    if flag is None or appointment.status != Status.BOOKED:
        messages.info(request, _("This visit needs no re-screen."))
        return redirect("scheduling:appointment", appointment.pk)
    patient = appointment.patient
    form = ScreeningForm(request.POST or None, answers=screening_summary(patient).answers)
    if request.method == "POST" and form.is_valid():
        actor = Actor.from_request(request)
        patient_services.confirm_screening(patient=patient, answers=form.answers(), by=actor)
        try:
            services.set_status(appointment=appointment, status=Status.CHECKED_IN, by=actor)
        except services.BookingError as error:
            messages.error(request, _("The screening is saved. %(problem)s") % {"problem": error})
            return redirect("scheduling:appointment", appointment.pk)
        messages.success(
            request,
            _("%(name)s: screening confirmed and checked in.") % {"name": patient.full_name},
        )
        return _back_to(request, redirect("scheduling:appointment", appointment.pk))
    context = {
        "appointment": appointment,
        "patient": patient,
        "form": form,
        "rescreen": flag.rescreen,
        "changed": flag.rescreen.changed_keys,
        "next": request.POST.get("next", "") or request.GET.get("next", ""),
    }
    return render(request, "scheduling/rescreen.html", context)


@staff_only
def time_off(request: HttpRequest) -> HttpResponse:
    tz = _clinic_zone()
    is_doctor = role_of(request.user) == Role.DOCTOR
    own = request.user if is_doctor else None
    form = TimeOffForm(request.POST or None, tz=tz, doctor=own)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            block, clashes = services.add_time_off(
                doctor=data["doctor"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                reason=data["reason"],
                by=Actor.from_request(request),
                form_token=data["form_token"],
            )
        except services.TimeOffAlreadySaved:
            messages.info(request, _("The time was blocked by the first click."))
            return redirect(reverse("scheduling:time_off"))
        except services.BookingError as error:
            messages.error(request, str(error))
            return redirect(reverse("scheduling:time_off"))
        messages.success(request, _("The time is blocked."))
        if clashes:
            messages.warning(
                request,
                _("%(n)d booked appointments fall in that time: move or cancel them.")
                % {"n": clashes},
            )
        return redirect(reverse("scheduling:time_off"))
    upcoming = TimeOff.objects.filter(ends_at__gt=timezone.now()).select_related("doctor")
    if own is not None:
        upcoming = upcoming.filter(doctor=own)
    context = {"form": form, "upcoming": upcoming[:50], "tz": tz.key, "is_doctor": is_doctor}
    return render(request, "scheduling/time_off.html", context)


@role_required(Role.FRONT_DESK)
def online_requests(request: HttpRequest) -> HttpResponse:
    """Online consultation requests still open (issue 15, point 1): those waiting for their
    email link, and those whose person may be a patient already, for the desk to settle."""
    if request.method == "POST":
        form = ResolveOnlineRequestForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("This page is out of date. Open it again."))
            return redirect("scheduling:online_requests")
        try:
            online_booking.resolve_online_request(
                request_id=form.cleaned_data["request"],
                resolution=form.cleaned_data["resolution"],
                by=Actor.from_request(request),
            )
        except BookingRequest.DoesNotExist:
            messages.error(request, _("This request no longer exists."))
        except services.BookingError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Done."))
        return redirect("scheduling:online_requests")
    tz = _clinic_zone()
    rows = list(online_booking.open_requests()[:200])
    links = message_selectors.latest_by_topic(
        online_booking_link.TOPIC, [row.pk for row in rows], kind=online_booking_link.KIND
    )
    for row in rows:
        row.local_start = row.starts_at.astimezone(tz)
        row.link_message = links.get(row.pk)
    audit.record_shown(
        actor=Actor.from_request(request),
        patients=[row.matched_patient for row in rows if row.matched_patient_id],
        subject="online booking requests",
    )
    resolutions = ResolveOnlineRequestForm.base_fields["resolution"].choices
    context = {"rows": rows, "resolutions": resolutions}
    return render(request, "scheduling/online_requests.html", context)
