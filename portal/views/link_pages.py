"""What the pages opened from a link in a message share (the safety check-in, a waitlist
offer): no login, so the page speaks the language of the patient the link was sent to, and
names a phone to call when the link does not work."""

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from goodskin.language import supported
from scheduling.services.common import first_location


def clinic_phone(office_phone: str = "") -> str:
    """The office's phone when the page knows the office; the clinic's main office otherwise
    (none before any office is set up: the page still answers)."""
    if office_phone:
        return office_phone
    office = first_location()
    return office.phone if office else ""


def speak_the_patients_language(request: HttpRequest, patient) -> None:
    """The link was sent to this patient, in their language: the page answers in it too,
    unless whoever opened it chose another one with the chooser (its cookie)."""
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or not supported(patient.language):
        return
    translation.activate(patient.language)
    request.LANGUAGE_CODE = patient.language
