"""Aftercare texts take every number from the settings (issue 13, point 8): the seeded texts
are templates with placeholders, filled from the plan (hose days, interval) and the clinic
settings (days without heavy exercise, minutes of walking, hours to normal activity); the admin
refuses an unknown placeholder, and a broken text in the database never breaks a page."""

import importlib
import re

import pytest
from django.apps import apps
from django.urls import reverse

from tests.factories import PatientFactory
from tests.treatments.conftest import make_plan
from treatments import aftercare
from treatments.aftercare import AftercareNumbers, TemplateError, fill, problems
from treatments.models import AftercareStep, ClinicSettings
from treatments.selectors import aftercare_steps, get_clinic_settings

MIGRATION = importlib.import_module("treatments.migrations.0012_aftercare_placeholders")
SEEDING = importlib.import_module("treatments.migrations.0002_aftercare_programme")
TEXTS = ("title", "email_subject", "email_body", "sms_text")


def numbers(**changes) -> AftercareNumbers:
    values = {
        "hose_days": 14,
        "interval_weeks": 4,
        "rest_days": 3,
        "walk_minutes_min": 15,
        "walk_minutes_max": 20,
        "normal_activity_hours": 24,
        **changes,
    }
    return AftercareNumbers(**values)


def test_no_seeded_text_writes_a_number_itself(db):
    for step in AftercareStep.objects.filter(active=True):
        for name in TEXTS:
            outside = aftercare.PLACEHOLDER.sub("", getattr(step, name))
            assert not re.search(r"\d|two|three|four|weeks", outside), (step.key, name, outside)


def test_the_texts_take_the_plans_hose_days_and_interval_and_the_clinics_other_numbers(
    doctor, record
):
    clinic = get_clinic_settings()
    clinic.rest_days, clinic.walk_minutes_min, clinic.walk_minutes_max = 5, 10, 30
    clinic.normal_activity_hours = 48
    clinic.hose_days = 7  # the plan's own number comes first
    clinic.save()
    plan = make_plan(record, doctor)
    plan.hose_days, plan.interval_weeks = 21, 6
    plan.save()
    by_key = {m.step.key: m for m in aftercare_steps(plan)}
    checkout = by_key["checkout"].advice
    assert "for the next 21 days." in checkout
    assert "Walk for 10 to 30 minutes now" in checkout
    assert "within 48 hours" in checkout
    assert "Today and for the next 5 days: no hot baths" in checkout
    assert "keep your support hose on for 21 days" in by_key["checkout"].sms_text
    assert "Your 21 days of support hose are over" in by_key["hose-end"].advice
    assert "It has been 6 weeks since your session" in by_key["book-next"].advice
    assert (by_key["rest-end"].offset_days, by_key["hose-end"].offset_days) == (6, 21)
    assert by_key["book-next"].offset_days == 42


def test_without_a_plan_the_texts_take_the_clinics_numbers(db):
    clinic = get_clinic_settings()
    clinic.hose_days, clinic.interval_weeks = 10, 5
    clinic.save()
    by_key = {m.step.key: m for m in aftercare_steps()}
    assert "for the next 10 days." in by_key["checkout"].advice
    assert "It has been 5 weeks" in by_key["book-next"].advice


def test_units_follow_the_number():
    values = numbers(hose_days=1, interval_weeks=1, walk_minutes_min=20, rest_days=1).values()
    assert (values["hose_period"], values["interval_period"]) == ("1 day", "1 week")
    assert (values["walk_time"], values["rest_period"]) == ("20 minutes", "1 day")


def test_an_unknown_placeholder_or_a_stray_brace_is_named():
    assert problems("Wear them for {hose_period}.") == []
    assert "“{hose_weeks}” is not a placeholder" in problems("for {hose_weeks}")[0]
    assert "Use { and } only around" in problems("for {hose_period days")[0]
    with pytest.raises(TemplateError):
        fill("{__class__}", numbers())


def test_filling_never_reaches_into_python_objects():
    # str.format would read attributes ("{0.__class__}"); a plain search only knows names.
    for text in ("{0.__class__}", "{numbers.__init__}", "{{hose_days}}"):
        assert problems(text), text
        with pytest.raises(TemplateError):
            fill(text, numbers())


# --- The admin ---------------------------------------------------------------------------


def step_form(step: AftercareStep, **changes) -> dict:
    return {
        "key": step.key,
        "order": step.order,
        "title": step.title,
        "anchor": step.anchor,
        "offset_days": step.offset_days,
        "email_subject": step.email_subject,
        "email_body": step.email_body,
        "sms_text": step.sms_text,
        "active": "on" if step.active else "",
        **changes,
    }


def test_the_admin_refuses_an_unknown_placeholder_with_a_clear_message(client, clinic_admin):
    step = AftercareStep.objects.get(key="hose-end")
    client.force_login(clinic_admin)
    url = reverse("admin:treatments_aftercarestep_change", args=[step.pk])
    response = client.post(url, step_form(step, email_body="Stop after {hose_weeks} weeks."))
    assert response.status_code == 200
    page = response.content.decode()
    assert "is not a placeholder the clinic knows" in page and "{hose_period}" in page
    step.refresh_from_db()
    assert "{hose_weeks}" not in step.email_body


def test_the_admin_saves_a_text_with_known_placeholders_and_lists_them(client, clinic_admin):
    step = AftercareStep.objects.get(key="hose-end")
    client.force_login(clinic_admin)
    url = reverse("admin:treatments_aftercarestep_change", args=[step.pk])
    assert "{interval_period}" in client.get(url).content.decode()
    response = client.post(url, step_form(step, sms_text="Hose off after {hose_period}."))
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.sms_text == "Hose off after {hose_period}."


def test_the_admin_refuses_walking_minutes_out_of_order(client, clinic_admin):
    clinic = get_clinic_settings()
    client.force_login(clinic_admin)
    url = reverse("admin:treatments_clinicsettings_change", args=[clinic.pk])
    form = {
        name: getattr(clinic, name)
        for name in (
            "sessions_min",
            "sessions_default",
            "sessions_max",
            "small_plan_max_areas",
            "large_plan_min_areas",
            "interval_weeks",
            "hose_days",
            "touch_up_months",
            "rest_days",
            "normal_activity_hours",
            "aftercare_hour",
            "session_minutes_min",
            "session_minutes_max",
            "minutes_per_extra_area",
            "rescreen_months",
            "foam_max_ml",
            "injection_ml_min",
            "injection_ml_max",
            "warning_signs",
        )
    }
    form.update(walk_minutes_min=30, walk_minutes_max=10)
    response = client.post(url, form)
    assert response.status_code == 200
    assert "The fewest minutes of walking can" in response.content.decode()
    clinic.refresh_from_db()
    assert (clinic.walk_minutes_min, clinic.walk_minutes_max) == (15, 20)


# --- A broken text in the database -------------------------------------------------------


def test_a_seeded_step_with_a_broken_text_falls_back_to_the_seeded_text_and_logs(db, caplog):
    AftercareStep.objects.filter(key="checkout").update(email_body="Hose for {hose_weeks}.")
    by_key = {m.step.key: m for m in aftercare_steps()}
    assert "for the next 14 days." in by_key["checkout"].advice
    assert "hose_weeks" in caplog.text


def test_a_page_leaves_out_an_added_step_whose_text_is_broken(client, patient, doctor):
    AftercareStep.objects.create(
        key="added",
        title="Added",
        anchor="session",
        email_subject="S",
        email_body="{oops}",
        sms_text="x",
    )
    record = PatientFactory(portal_user=patient)
    make_plan(record, doctor)
    client.force_login(patient)
    response = client.get(reverse("portal:treatment"))
    assert response.status_code == 200
    assert "{oops}" not in response.content.decode()


def test_the_portal_shows_the_advice_with_the_plans_numbers(client, patient, doctor):
    record = PatientFactory(portal_user=patient)
    plan = make_plan(record, doctor)
    plan.hose_days = 10
    plan.save()
    client.force_login(patient)
    page = client.get(reverse("portal:plan", args=[plan.pk])).content.decode()
    assert "for the next 10 days" in page and "{hose_period}" not in page


# --- The data migration ------------------------------------------------------------------


def seed_as_0002(db):
    AftercareStep.objects.all().delete()
    SEEDING.seed(apps, None)


def test_the_migration_rewrites_the_seeded_texts_and_reshapes_the_programme(db):
    seed_as_0002(db)
    MIGRATION.rewrite(apps, None)
    steps = {s.key: s for s in AftercareStep.objects.all()}
    for key, texts in aftercare.SEEDED.items():
        for name in TEXTS:
            assert getattr(steps[key], name) == texts[name], (key, name)
    first_days = steps["days-0-3"]
    assert (first_days.active, first_days.offset_days) == (False, 0)
    assert (steps["rest-end"].anchor, steps["rest-end"].active) == ("rest_end", True)


def test_the_migration_keeps_an_administrators_edited_text(db):
    seed_as_0002(db)
    AftercareStep.objects.filter(key="checkout").update(email_body="Our own words.")
    MIGRATION.rewrite(apps, None)
    checkout = AftercareStep.objects.get(key="checkout")
    assert checkout.email_body == "Our own words."
    assert checkout.sms_text == aftercare.SEEDED["checkout"]["sms_text"]
    # The checkout email no longer carries the first days' advice: that step stays on, at
    # checkout, where the days it speaks of begin.
    first_days = AftercareStep.objects.get(key="days-0-3")
    assert (first_days.active, first_days.offset_days) == (True, 0)


def test_the_migration_runs_twice_and_backwards_without_harm(db):
    seed_as_0002(db)
    MIGRATION.rewrite(apps, None)
    MIGRATION.rewrite(apps, None)
    assert AftercareStep.objects.filter(key="rest-end").count() == 1
    MIGRATION.restore(apps, None)
    seeded = {s["key"]: s for s in SEEDING.STEPS}
    for step in AftercareStep.objects.all():
        assert step.email_body == seeded[step.key]["email_body"]
        assert (step.offset_days, step.active) == (seeded[step.key]["offset_days"], True)


def test_the_apps_fallback_texts_are_those_the_migration_wrote():
    written = {**MIGRATION.TEMPLATES, "rest-end": MIGRATION.REST_END}
    for key, texts in aftercare.SEEDED.items():
        assert {n: texts[n] for n in TEXTS} == {n: written[key][n] for n in TEXTS}, key


def test_the_clinic_settings_hold_the_aftercare_numbers_with_the_clinic_pages_defaults(db):
    ClinicSettings.objects.all().delete()
    clinic = get_clinic_settings()
    assert (clinic.rest_days, clinic.walk_minutes_min, clinic.walk_minutes_max) == (3, 15, 20)
    assert (clinic.normal_activity_hours, clinic.aftercare_hour) == (24, 9)
