"""Scheduling's part of merging two patient records (patients/merging.py): the duplicate's
appointments and calendar feeds follow the kept record."""

from patients.models import Patient

from .models import Appointment, CalendarFeed

MODELS = (Appointment, CalendarFeed)


def move_patient_rows(*, keep: Patient, duplicate: Patient) -> dict[str, int]:
    return {
        model._meta.label: model.objects.filter(patient=duplicate).update(patient=keep)
        for model in MODELS
    }
