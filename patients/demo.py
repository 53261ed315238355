"""Demo patients for seed_demo: the five portal patients and some more, with screening answers
that show the banners (estrogen, untreated varicose veins, an absolute contraindication) and a
near-duplicate pair for the duplicate check and merge."""

from datetime import date

from django.contrib.auth import get_user_model

from goodskin.actors import Actor

from .models import Patient
from .services import record_screening

DOMAIN = "demo.goodskin.test"

# (first, last, preferred, born, phone, portal username or None, screening "yes" answers)
PATIENTS = (
    ("María", "García", "", date(1978, 4, 12), "+15035550101", "maria.garcia", ["estrogen"]),
    ("Susan", "Miller", "Sue", date(1969, 9, 3), "+15035550102", "susan.miller", []),
    (
        "Jennifer",
        "O'Connor",
        "Jen",
        date(1985, 1, 27),
        "+15035550103",
        "jennifer.oconnor",
        ["estrogen", "migraine"],
    ),
    (
        "Linda",
        "Johnson",
        "",
        date(1958, 11, 30),
        "+15035550104",
        "linda.johnson",
        ["untreated_varicose"],
    ),
    ("Karen", "Thompson", "", date(1972, 6, 8), "+15035550105", "karen.thompson", []),
    ("Patricia", "Nguyen", "Pat", date(1981, 2, 14), "+15035550106", None, []),
    ("Barbara", "Wilson", "", date(1964, 7, 22), "+15035550107", None, ["acute_dvt_pe"]),
    ("Elizabeth", "Brown", "Liz", date(1990, 3, 5), "+15035550108", None, ["estrogen"]),
    # A near-duplicate pair: the same person registered twice with a typo.
    ("Catherine", "Anderson", "Cathy", date(1975, 10, 19), "+15035550109", None, []),
    ("Katherine", "Andersen", "", date(1975, 10, 19), "+15035550110", None, []),
)


def seed(stdout) -> None:
    User = get_user_model()
    created = 0
    for first, last, preferred, born, phone, username, yes in PATIENTS:
        email = f"{username or (first + '.' + last).lower()}@{DOMAIN}"
        if Patient.objects.filter(email=email).exists():
            continue
        patient = Patient.objects.create(
            legal_first_name=first,
            legal_last_name=last,
            preferred_name=preferred,
            date_of_birth=born,
            sex="female",
            phone=phone,
            email=email,
            city="Portland",
            state="OR",
            postal_code="97205",
            address_line1="1200 SW Main St",
            consent_email=True,
            consent_sms=phone.endswith(("1", "3", "5")),
            portal_user=User.objects.filter(username=username).first() if username else None,
        )
        answers = {key: ("yes", "") for key in yes}
        answers.update(
            {key: ("no", "") for key in ("sclerosant_allergy", "pregnancy") if key not in yes}
        )
        record_screening(patient=patient, answers=answers, by=Actor.system())
        created += 1
    if created:
        stdout.write(f"Demo patients: {created} added.")
