"""Show and read times in the clinic's zone; the database keeps UTC."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone

from .roles import Role, role_of


class ClinicTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.zone = zoneinfo.ZoneInfo(settings.CLINIC_TIME_ZONE)

    def __call__(self, request):
        timezone.activate(self.zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class PatientIdleTimeoutMiddleware:
    """A patient's session ends after PATIENT_IDLE_MINUTES without a request: patients log in
    on shared and family devices. Each request starts the count again."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if role_of(request.user) == Role.PATIENT:
            request.session.set_expiry(settings.PATIENT_IDLE_MINUTES * 60)
        return self.get_response(request)


class RefuseNulMiddleware:
    """A NUL character in the path or the query string answers 400: PostgreSQL can't store or
    compare it, so it would otherwise reach a query as a 500 (a calendar-feed token, a search).
    Posted forms need no check here: every form text field refuses a NUL with a message."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in request.GET.getlist(key))
            for key in request.GET
        ):
            raise SuspiciousOperation("A NUL character in the request")
        return self.get_response(request)
