"""Show and read times in the clinic's zone; the database keeps UTC."""

import zoneinfo

from django.conf import settings
from django.utils import timezone


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
