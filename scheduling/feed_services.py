"""The patient's calendar subscription link: making a new one stops the old one."""

import secrets

from django.db import transaction
from django.utils import timezone

from patients.models import Patient

from .models import CalendarFeed


@transaction.atomic
def new_calendar_feed(*, patient: Patient) -> CalendarFeed:
    """Revoke the current subscription link, if any, and make a new one."""
    patient.calendar_feeds.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    return CalendarFeed.objects.create(patient=patient, token=secrets.token_urlsafe(32))
