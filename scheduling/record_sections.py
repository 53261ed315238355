"""This app's sections of the exported record (patients.record_export): every appointment with
every change made to it (booked, moved, cancelled, checked in...), and the patient's calendar
subscriptions (when made and revoked; never their secret address). A fixed number of queries,
however many appointments and changes."""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from patients.models import Patient
from patients.record_export import choice, day, person, register_section, when

from .models import (
    Appointment,
    AppointmentChange,
    BookingRequest,
    BookingStatus,
    CalendarFeed,
    CancelledBy,
    ChangeAction,
    Kind,
    OfferStatus,
    Opening,
    OpeningReason,
    OpeningStatus,
    Room,
    Status,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from .services.common import CLOSED_OVERRIDE

APPOINTMENT_LABELS = {
    "appointments/item": _("Appointment %(number)s"),
    "kind": _("Type"),
    "starts_at": _("Starts"),
    "ends_at": _("Ends"),
    "location": _("Location"),
    "room": _("Room"),
    "session_number": _("Session"),
    "cancelled_by": _("Cancelled by"),
    "cancel_reason": _("Reason for cancelling"),
    "late_cancel": _("Late cancellation"),
    "created_by": _("Booked by"),
    "changes": _("Changes"),
    "action": _("What changed"),
    "before": _("Before"),
    "after": _("After"),
    "closed_override": _("Booked although the clinic was closed"),
}

FEED_LABELS = {"revoked_at": _("Turned off")}
REQUEST_LABELS = {
    "starts_at": _("Time asked for"),
    "confirmed_at": _("Confirmed"),
    "email": _("Email given"),
    "phone": _("Phone given"),
}


def _instant(stored: str | None) -> str | None:
    """A time a change kept as text (UTC), with the clinic's offset like every other."""
    return when(datetime.fromisoformat(stored)) if stored else None


def _state(snapshot: dict, users: dict, rooms: dict) -> dict:
    """A change's before or after, with names instead of ids."""
    if not snapshot:
        return {}
    state = {
        "starts_at": _instant(snapshot.get("starts_at")),
        "ends_at": _instant(snapshot.get("ends_at")),
        "doctor": person(users.get(snapshot.get("doctor"))),
        "room": str(rooms[snapshot["room"]].name) if snapshot.get("room") in rooms else None,
        "status": choice(Status, snapshot.get("status", "")),
    }
    if snapshot.get(CLOSED_OVERRIDE):
        state["closed_override"] = True
    return state


def appointments(patient: Patient) -> list[dict]:
    rows = list(
        Appointment.objects.filter(patient=patient)
        .select_related("doctor", "location", "room", "created_by")
        .prefetch_related(
            Prefetch("changes", queryset=AppointmentChange.objects.select_related("by"))
        )
        .order_by("starts_at", "id")
    )
    snapshots = [s for a in rows for c in a.changes.all() for s in (c.before, c.after)]
    user_ids = {s.get("doctor") for s in snapshots} - {None}
    room_ids = {s.get("room") for s in snapshots} - {None}
    users = get_user_model().objects.in_bulk(user_ids) if user_ids else {}
    rooms = Room.objects.in_bulk(room_ids) if room_ids else {}
    return [
        {
            "id": a.pk,
            "kind": choice(Kind, a.kind),
            "starts_at": when(a.starts_at),
            "ends_at": when(a.ends_at),
            "doctor": person(a.doctor),
            "location": a.location.name,
            "room": a.room.name,
            "plan": a.plan_id,
            "session_number": a.session_number,
            "status": choice(Status, a.status),
            "cancelled_by": choice(CancelledBy, a.cancelled_by),
            "cancel_reason": a.cancel_reason,
            "late_cancel": a.late_cancel,
            "notes": a.notes,
            "created_at": when(a.created_at),
            "created_by": person(a.created_by),
            "changes": [
                {
                    "at": when(c.at),
                    "by": person(c.by),
                    "action": choice(ChangeAction, c.action),
                    "before": _state(c.before, users, rooms),
                    "after": _state(c.after, users, rooms),
                }
                for c in a.changes.all()
            ],
        }
        for a in rows
    ]


def calendar_feeds(patient: Patient) -> list[dict]:
    rows = CalendarFeed.objects.filter(patient=patient).order_by("created_at", "id")
    return [{"created_at": when(f.created_at), "revoked_at": when(f.revoked_at)} for f in rows]


def online_requests(patient: Patient) -> list[dict]:
    """The online booking requests that became this patient's record or booking."""
    rows = BookingRequest.objects.filter(patient=patient).order_by("created_at", "id")
    return [
        {
            "created_at": when(r.created_at),
            "status": choice(BookingStatus, r.status),
            "starts_at": when(r.starts_at),
            "confirmed_at": when(r.confirmed_at),
            "email": r.email,
            "phone": str(r.phone or ""),
        }
        for r in rows
    ]


WAITLIST_LABELS = {
    "wishes": _("Waiting for an earlier time"),
    "wishes/item": _("Wish %(number)s"),
    "weekdays": _("Days"),
    "day_part": _("Time of day"),
    "not_before": _("From"),
    "not_after": _("Until"),
    "offers": _("Times offered"),
    "sent_at": _("Offered"),
    "answered_at": _("Answered"),
    "freed": _("Times freed by this patient's changes"),
    "kind": _("Type"),
    "starts_at": _("Time offered"),
    "appointment": _("Appointment"),
}


def waitlist(patient: Patient) -> dict:
    """The patient's waitlist wishes with every time offered, and the openings their own
    cancellations and moves made (offered to others: no one else's name here)."""
    wishes = (
        WaitlistEntry.objects.filter(patient=patient)
        .select_related("doctor")
        .prefetch_related(Prefetch("offers", queryset=WaitlistOffer.objects.order_by("pk")))
        .order_by("pk")
    )
    freed = Opening.objects.filter(appointment__patient=patient).order_by("pk")
    return {
        "wishes": [
            {
                "kind": choice(Kind, w.kind),
                "doctor": person(w.doctor),
                "weekdays": w.days_label(),
                "day_part": w.get_day_part_display(),
                "not_before": day(w.not_before),
                "not_after": day(w.not_after),
                "status": choice(WaitlistStatus, w.status),
                "created_at": when(w.created_at),
                "offers": [
                    {
                        "starts_at": when(o.starts_at),
                        "status": choice(OfferStatus, o.status),
                        "sent_at": when(o.sent_at),
                        "answered_at": when(o.answered_at),
                    }
                    for o in w.offers.all()
                ],
            }
            for w in wishes
        ],
        "freed": [
            {
                "appointment": o.appointment_id,
                "reason": choice(OpeningReason, o.reason),
                "status": choice(OpeningStatus, o.status),
            }
            for o in freed
        ],
    }


def register() -> None:
    register_section(
        "appointments",
        _("Appointments and their changes"),
        appointments,
        labels=APPOINTMENT_LABELS,
        models=(Appointment, AppointmentChange),
        order=40,
    )
    register_section(
        "calendar_feeds",
        _("Calendar subscriptions"),
        calendar_feeds,
        labels=FEED_LABELS,
        models=(CalendarFeed,),
        order=41,
    )
    register_section(
        "online_requests",
        _("Online booking requests"),
        online_requests,
        labels=REQUEST_LABELS,
        models=(BookingRequest,),
        order=42,
    )
    register_section(
        "waitlist",
        _("Waitlist"),
        waitlist,
        labels=WAITLIST_LABELS,
        models=(WaitlistEntry, WaitlistOffer, Opening),
        order=43,
    )
