"""Appointments as iCalendar (RFC 5545): the patient's calendar feed and downloads (PUBLISH),
and the invitations sent with the messages about a change (REQUEST, CANCEL; RFC 5546).

Each appointment keeps one UID forever; SEQUENCE follows its version, which every change
raises, so calendars replace the old copy. A cancelled one stays, with STATUS:CANCELLED, so
the phone removes it rather than keeping a stale entry. A visit the patient missed carries no
STATUS (it was neither confirmed nor cancelled, and TENTATIVE would say it may still happen)
and "Missed" in its summary. A booked visit has an alarm the day before.
"""

from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress, vText

from goodskin import when

from . import clock
from .models import Appointment, Status

PRODID = "-//Goodskin Clinic//Patient calendar//EN"
CONFIRMED = (Status.BOOKED, Status.CHECKED_IN, Status.IN_PROGRESS, Status.COMPLETED)


class Method:
    PUBLISH = "PUBLISH"
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


def uid(appointment: Appointment) -> str:
    return f"appointment-{appointment.pk}@{settings.MESSAGE_ID_DOMAIN}"


def sequence(appointment: Appointment) -> int:
    return appointment.version - 1


def summary(appointment: Appointment) -> str:
    text = f"{settings.CLINIC_NAME}: {appointment.get_kind_display()}"
    if appointment.status == Status.NO_SHOW:
        return _("Missed: %(visit)s") % {"visit": text}
    return text


def description(appointment: Appointment) -> str:
    """When and with whom, written as the pages and messages write it, and the clinic's phone."""
    doctor = appointment.doctor.get_full_name() or appointment.doctor.get_username()
    text = _("%(when)s with Dr %(doctor)s.") % {
        "when": when.day_and_time(appointment.starts_at),
        "doctor": doctor,
    }
    return f"{text} {appointment.location.phone}".strip()


def _event(appointment: Appointment, tz, *, attendee: str = "") -> Event:
    event = Event()
    event.add("uid", uid(appointment))
    event.add("sequence", sequence(appointment))
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.starts_at.astimezone(tz))
    event.add("dtend", appointment.ends_at.astimezone(tz))
    event.add("summary", summary(appointment))
    # The office's name and address: with two offices, the patient must know which one.
    event.add("location", appointment.location.place)
    event.add("description", description(appointment))
    if appointment.status == Status.CANCELLED:
        event.add("status", "CANCELLED")
    elif appointment.status in CONFIRMED:
        event.add("status", "CONFIRMED")
    if appointment.status == Status.BOOKED:
        event.add_component(_day_before(appointment))
    if attendee:
        event.add("organizer", _organizer())
        event.add("attendee", _attendee(attendee))
    return event


def _day_before(appointment: Appointment) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -timedelta(days=1))
    alarm.add("description", summary(appointment))
    return alarm


def _organizer() -> vCalAddress:
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["cn"] = vText(name or settings.CLINIC_NAME)
    return organizer


def _attendee(email: str) -> vCalAddress:
    attendee = vCalAddress(f"mailto:{email}")
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("ACCEPTED")
    attendee.params["rsvp"] = vText("FALSE")
    return attendee


def calendar_for(
    appointments, tz_name: str | None = None, *, method: str = Method.PUBLISH, attendee=""
) -> bytes:
    """The appointments as one calendar. An invitation (REQUEST, CANCEL) names the clinic as
    organiser and `attendee` (the patient's email) as the one invited, as RFC 5546 asks."""
    tz = clock.zone(tz_name)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add("x-wr-calname", settings.CLINIC_NAME)
    calendar.add_component(Timezone.from_tzid(tz.key))
    for appointment in appointments:
        calendar.add_component(_event(appointment, tz, attendee=attendee))
    return calendar.to_ical()
