"""The offices' set-up, in the app (issue 17, point 4): administrators add and change offices,
their rooms, the doctors' hours there and the kinds of visit each offers. Everyone else gets
the 403 page, as on the rest of the administrators' pages."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from goodskin.actors import Actor
from goodskin.roles import Role, role_required

from . import selectors
from .models import Location, Room, WorkingHours
from .office_forms import HoursForm, OfficeForm, RoomForm
from .services import offices

admin_only = role_required(Role.ADMIN)


@admin_only
def office_list(request: HttpRequest) -> HttpResponse:
    return render(request, "scheduling/offices.html", {"offices": selectors.office_rows()})


def _save_office(request: HttpRequest, form: OfficeForm, office: Location | None):
    """The office saved from a valid form, or None with the refusal on the form."""
    data = form.cleaned_data
    try:
        return offices.save_office(
            office=office,
            name=data["name"],
            address=data["address"],
            phone=data["phone"],
            time_zone=data["time_zone"],
            active=data["active"],
            kinds=data["kinds"],
            by=Actor.from_request(request),
        )
    except offices.OfficeError as error:
        form.add_error(None, str(error))
        return None


@admin_only
def office_new(request: HttpRequest) -> HttpResponse:
    form = OfficeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        office = _save_office(request, form, None)
        if office is not None:
            messages.success(request, _("The office is added. Now add its rooms and hours."))
            return redirect("scheduling:office", office.pk)
    return render(request, "scheduling/office_new.html", {"form": form})


def _office_page(request: HttpRequest, office: Location, **forms) -> HttpResponse:
    hours = (
        WorkingHours.objects.filter(location=office)
        .select_related("doctor")
        .order_by("doctor__last_name", "doctor__first_name", "weekday", "starts")
    )
    context = {
        "office": office,
        "form": forms.get("form") or OfficeForm.of(office),
        "rooms": list(office.rooms.order_by("-active", "name")),
        "room_form": forms.get("room_form") or RoomForm(prefix="room"),
        "hours": hours,
        "hours_form": forms.get("hours_form") or HoursForm(prefix="hours"),
    }
    return render(request, "scheduling/office.html", context)


@admin_only
def office_detail(request: HttpRequest, pk: int) -> HttpResponse:
    office = get_object_or_404(Location, pk=pk)
    if request.method != "POST":
        return _office_page(request, office)
    form = OfficeForm.of(office, request.POST)
    if form.is_valid() and _save_office(request, form, office) is not None:
        messages.success(request, _("The office is saved."))
        return redirect("scheduling:office", office.pk)
    office.refresh_from_db()
    return _office_page(request, office, form=form)


@admin_only
@require_POST
def room_add(request: HttpRequest, pk: int) -> HttpResponse:
    office = get_object_or_404(Location, pk=pk)
    form = RoomForm(request.POST, prefix="room")
    if form.is_valid():
        try:
            offices.add_room(
                office=office, name=form.cleaned_data["name"], by=Actor.from_request(request)
            )
        except offices.OfficeError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, _("The room is added."))
            return redirect("scheduling:office", office.pk)
    return _office_page(request, office, room_form=form)


@admin_only
@require_POST
def room_change(request: HttpRequest, pk: int, room_pk: int) -> HttpResponse:
    room = get_object_or_404(Room, pk=room_pk, location_id=pk)
    form = RoomForm(request.POST, prefix=f"r{room.pk}")
    if form.is_valid():
        try:
            offices.change_room(
                room=room,
                name=form.cleaned_data["name"],
                active=form.cleaned_data["active"],
                by=Actor.from_request(request),
            )
        except offices.OfficeError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The room is saved."))
    else:
        messages.error(request, _("The room was not saved: %(problem)s") % _first_error(form))
    return redirect("scheduling:office", pk)


def _first_error(form) -> dict:
    return {"problem": next(iter(e for errors in form.errors.values() for e in errors), "")}


def _save_hours(request, form, office, hours) -> bool:
    data = form.cleaned_data
    try:
        offices.save_hours(
            hours=hours,
            office=office,
            doctor=data["doctor"],
            weekday=data["weekday"],
            starts=data["starts"],
            ends=data["ends"],
            by=Actor.from_request(request),
        )
    except offices.OfficeError as error:
        form.add_error(None, str(error))
        return False
    return True


@admin_only
@require_POST
def hours_add(request: HttpRequest, pk: int) -> HttpResponse:
    office = get_object_or_404(Location, pk=pk)
    form = HoursForm(request.POST, prefix="hours")
    if form.is_valid() and _save_hours(request, form, office, None):
        messages.success(request, _("The hours are added."))
        return redirect("scheduling:office", office.pk)
    return _office_page(request, office, hours_form=form)


@admin_only
def hours_edit(request: HttpRequest, pk: int, hours_pk: int) -> HttpResponse:
    hours = get_object_or_404(
        WorkingHours.objects.select_related("location", "doctor"), pk=hours_pk, location_id=pk
    )
    initial = {"doctor": hours.doctor, "weekday": hours.weekday}
    initial |= {"starts": hours.starts, "ends": hours.ends}
    form = HoursForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if request.POST.get("remove"):
            offices.remove_hours(hours=hours, by=Actor.from_request(request))
            messages.success(request, _("The hours are removed."))
            return redirect("scheduling:office", pk)
        if form.is_valid() and _save_hours(request, form, hours.location, hours):
            messages.success(request, _("The hours are saved."))
            return redirect("scheduling:office", pk)
    context = {"office": hours.location, "hours": hours, "form": form}
    return render(request, "scheduling/office_hours.html", context)
