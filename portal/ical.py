"""The patient's appointments as iCalendar files for download and subscription. What an
event says (UID, SEQUENCE, status, the alarm the day before) is scheduling's
(`scheduling.ical`), which also makes the invitations sent with messages."""

from django.http import HttpResponse

from scheduling.ical import calendar_for

__all__ = ["calendar_for", "ics_response"]


def ics_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
