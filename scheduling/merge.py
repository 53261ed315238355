"""Scheduling's part of merging two patient records (patients/merging.py): the duplicate's
appointments, calendar feeds, online booking requests and waitlist wishes follow the kept
record."""

from goodskin.actors import Actor
from goodskin.db import locked
from patients.models import Patient

from .models import Appointment, BookingRequest, CalendarFeed, WaitlistEntry, WaitlistStatus
from .services import waitlist

MODELS = (Appointment, CalendarFeed, BookingRequest, WaitlistEntry)


def move_patient_rows(*, keep: Patient, duplicate: Patient) -> dict[str, int]:
    # One wish per kind: where both records wait for the same kind, the kept record's stays.
    kept_kinds = WaitlistEntry.objects.filter(patient=keep, status=WaitlistStatus.WAITING)
    doubled = WaitlistEntry.objects.filter(
        patient=duplicate, status=WaitlistStatus.WAITING, kind__in=kept_kinds.values("kind")
    )
    for entry in locked(doubled.order_by("pk")):
        waitlist.end_wish(entry, WaitlistStatus.REMOVED, by=Actor.system())
    moved = {
        model._meta.label: model.objects.filter(patient=duplicate).update(patient=keep)
        for model in MODELS
    }
    # A request the duplicate check matched to the duplicate is about the kept record now.
    BookingRequest.objects.filter(matched_patient=duplicate).update(matched_patient=keep)
    return moved
