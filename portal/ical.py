"""The patient's appointments as iCalendar (RFC 5545), for a phone's calendar.

Each appointment keeps one UID forever; SEQUENCE follows its version, which every change
raises, so calendars replace the old copy; a cancelled one stays with STATUS:CANCELLED so the
phone removes it rather than keeping a stale entry.
"""

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from icalendar import Calendar, Event, Timezone

from scheduling import clock
from scheduling.models import Appointment, Status

PRODID = "-//Goodskin Clinic//Patient calendar//EN"


def uid(appointment: Appointment) -> str:
    return f"appointment-{appointment.pk}@{settings.MESSAGE_ID_DOMAIN}"


def _event(appointment: Appointment, tz) -> Event:
    event = Event()
    event.add("uid", uid(appointment))
    event.add("sequence", appointment.version - 1)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.starts_at.astimezone(tz))
    event.add("dtend", appointment.ends_at.astimezone(tz))
    event.add("summary", f"{settings.CLINIC_NAME}: {appointment.get_kind_display()}")
    location = appointment.location
    event.add("location", ", ".join(filter(None, [location.name, location.address])))
    doctor = appointment.doctor.get_full_name() or appointment.doctor.get_username()
    event.add("description", f"Dr {doctor}. {location.phone}".strip())
    event.add("status", "CANCELLED" if appointment.status == Status.CANCELLED else "CONFIRMED")
    return event


def calendar_for(appointments, tz_name: str | None = None) -> bytes:
    tz = clock.zone(tz_name)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", settings.CLINIC_NAME)
    calendar.add_component(Timezone.from_tzid(tz.key))
    for appointment in appointments:
        calendar.add_component(_event(appointment, tz))
    return calendar.to_ical()


def ics_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
