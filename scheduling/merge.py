"""Scheduling's part of merging two patient records (patients/merging.py): the duplicate's
appointments, calendar feeds and online booking requests follow the kept record."""

from patients.models import Patient

from .models import Appointment, BookingRequest, CalendarFeed

MODELS = (Appointment, CalendarFeed, BookingRequest)


def move_patient_rows(*, keep: Patient, duplicate: Patient) -> dict[str, int]:
    moved = {
        model._meta.label: model.objects.filter(patient=duplicate).update(patient=keep)
        for model in MODELS
    }
    # A request the duplicate check matched to the duplicate is about the kept record now.
    BookingRequest.objects.filter(matched_patient=duplicate).update(matched_patient=keep)
    return moved
