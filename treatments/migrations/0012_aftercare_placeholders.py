"""Aftercare texts take their numbers from the settings (issue 13, point 8).

The clinic settings get the numbers the texts spoke of in words (days without heavy exercise,
minutes of walking, hours until normal activity) and the hour at which the messages of later
days go out. The seeded steps' texts become templates with placeholders, only where a text is
still the one migration 0002 seeded: an administrator's edited text is kept as it is.

The programme also changes shape so that each step arrives on the day it speaks of: the advice
for the first days ("today and the next 3 days") moves into the message at checkout, the old
"first three days" step (which arrived on day 1) is turned off when its advice now is in the
checkout message (else it is sent at checkout too), and a new step tells the patient on the
day after those days that they may exercise again.
"""

import importlib

import django.core.validators
from django.db import migrations, models

SEEDED_0002 = {
    step["key"]: step
    for step in importlib.import_module("treatments.migrations.0002_aftercare_programme").STEPS
}
TEXTS = ("title", "email_subject", "email_body", "sms_text")

# The texts as this migration writes them, frozen here (treatments.aftercare.SEEDED is the
# app's copy, which later versions may change).
TEMPLATES = {
    "checkout": {
        "title": "Right after your session",
        "email_subject": "After your sclerotherapy session today",
        "email_body": (
            "Keep your support hose on day and night for the next {hose_period}.\n"
            "Walk for {walk_time} now: walking right after the session helps.\n"
            "You can go back to your normal daily activities within {normal_activity_period}.\n"
            "Today and for the next {rest_period}: no hot baths, hot tubs or sauna, no "
            "sunbathing on the treated legs, no heavy exercise and no long flights. Showers and "
            "walking are fine.\n"
            "Redness and some bruising are normal. Treated veins can turn brown for a while as "
            "your body absorbs them; this fades."
        ),
        "sms_text": (
            "Goodskin: keep your support hose on for {hose_period}, walk {walk_time} now, "
            "normal activity within {normal_activity_period}. Today and the next {rest_period}: "
            "no hot baths, sauna, sun on your legs, heavy exercise or long flights."
        ),
    },
    "days-0-3": {
        "title": "The first days",
        "email_subject": "The first days after your session",
        "email_body": (
            "Today and for the next {rest_period}: no hot baths, hot tubs or sauna, no "
            "sunbathing on the treated legs, no heavy exercise and no long flights. Showers and "
            "walking are fine."
        ),
        "sms_text": (
            "Goodskin: today and the next {rest_period}, no hot baths, sauna, sun on your legs, "
            "heavy exercise or long flights. Walking is good."
        ),
    },
    "hose-end": {
        "title": "When the support-hose period ends",
        "email_subject": "You can stop wearing your support hose",
        "email_body": (
            "Your {hose_period} of support hose are over: from today you can stop wearing "
            "them. Keep walking every day."
        ),
        "sms_text": (
            "Goodskin: your {hose_period} of support hose are over; from today you can stop "
            "wearing them."
        ),
    },
    "book-next": {
        "title": "Book your next session",
        "email_subject": "Time to book your next session",
        "email_body": (
            "It has been {interval_period} since your session: your next sclerotherapy session "
            "can take place from now on. Call the clinic or book online to choose a time."
        ),
        "sms_text": (
            "Goodskin: {interval_period} since your session, your next one can be booked now. "
            "Call us or book online."
        ),
    },
}
REST_END = {
    "key": "rest-end",
    "order": 25,
    "title": "Back to exercise",
    "anchor": "rest_end",
    "offset_days": 0,
    "email_subject": "You can go back to exercise",
    "email_body": (
        "From today you can go back to heavy exercise, hot baths, hot tubs and sauna, sun on "
        "your legs and long flights. If your support-hose period is not over yet, keep wearing "
        "them until it is. Keep walking every day."
    ),
    "sms_text": (
        "Goodskin: from today you can exercise again, and take hot baths, sun and long flights. "
        "Keep walking every day."
    ),
}


def _swap(step, source: dict, target: dict) -> list[str]:
    """Set each text still as in `source` to its `target`; returns the names changed."""
    changed = [name for name in TEXTS if getattr(step, name) == source[name]]
    for name in changed:
        setattr(step, name, target[name])
    if changed:
        step.save(update_fields=changed)
    return changed


def rewrite(apps, schema_editor):
    AftercareStep = apps.get_model("treatments", "AftercareStep")
    changed = {}
    for step in AftercareStep.objects.filter(key__in=TEMPLATES):
        changed[step.key] = _swap(step, SEEDED_0002[step.key], TEMPLATES[step.key])
    first_days = AftercareStep.objects.filter(key="days-0-3").first()
    if (
        first_days is not None
        and len(changed.get("days-0-3", [])) == len(TEXTS)
        and (first_days.anchor, first_days.offset_days) == ("session", 1)
    ):
        # Its advice speaks of today and the next days: it belongs to the day of the session.
        first_days.offset_days = 0
        # The checkout message now carries it, unless an administrator rewrote that message.
        if {"email_body", "sms_text"} <= set(changed.get("checkout", [])):
            first_days.active = False
        first_days.save(update_fields=["offset_days", "active"])
    AftercareStep.objects.get_or_create(key=REST_END["key"], defaults=REST_END)


def restore(apps, schema_editor):
    AftercareStep = apps.get_model("treatments", "AftercareStep")
    AftercareStep.objects.filter(
        key=REST_END["key"], **{name: REST_END[name] for name in TEXTS}
    ).delete()
    for step in AftercareStep.objects.filter(key__in=TEMPLATES):
        _swap(step, TEMPLATES[step.key], SEEDED_0002[step.key])
    first_days = AftercareStep.objects.filter(key="days-0-3").first()
    seeded = SEEDED_0002["days-0-3"]
    if first_days is not None and all(getattr(first_days, n) == seeded[n] for n in TEXTS):
        first_days.offset_days, first_days.active = seeded["offset_days"], True
        first_days.save(update_fields=["offset_days", "active"])


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0011_agent_session_max"),
    ]

    operations = [
        migrations.AddField(
            model_name="clinicsettings",
            name="aftercare_hour",
            field=models.PositiveSmallIntegerField(
                default=9,
                validators=[
                    django.core.validators.MinValueValidator(6),
                    django.core.validators.MaxValueValidator(21),
                ],
                verbose_name="aftercare messages of later days go out at this hour (clinic time)",
            ),
        ),
        migrations.AddField(
            model_name="clinicsettings",
            name="normal_activity_hours",
            field=models.PositiveSmallIntegerField(
                default=24, verbose_name="hours after a session until normal activities again"
            ),
        ),
        migrations.AddField(
            model_name="clinicsettings",
            name="rest_days",
            field=models.PositiveSmallIntegerField(
                default=3,
                help_text="3 means the day of the session and the 3 days after it; the message that they may exercise again comes the day after.",
                validators=[django.core.validators.MaxValueValidator(60)],
                verbose_name="days after the session day with no heavy exercise, hot baths, sun or long flights",
            ),
        ),
        migrations.AddField(
            model_name="clinicsettings",
            name="walk_minutes_max",
            field=models.PositiveSmallIntegerField(
                default=20, verbose_name="most minutes of walking right after a session"
            ),
        ),
        migrations.AddField(
            model_name="clinicsettings",
            name="walk_minutes_min",
            field=models.PositiveSmallIntegerField(
                default=15, verbose_name="fewest minutes of walking right after a session"
            ),
        ),
        migrations.AlterField(
            model_name="aftercarestep",
            name="anchor",
            field=models.CharField(
                choices=[
                    ("session", "after the session"),
                    ("rest_end", "after the days without heavy exercise end"),
                    ("hose_end", "after the support-hose period ends"),
                    ("interval_end", "after the interval between sessions"),
                ],
                max_length=20,
                verbose_name="counted from",
            ),
        ),
        migrations.AddConstraint(
            model_name="clinicsettings",
            constraint=models.CheckConstraint(
                condition=models.Q(("walk_minutes_min__lte", models.F("walk_minutes_max"))),
                name="walk_minutes_in_order",
                violation_error_message="The fewest minutes of walking can't be more than the most.",
            ),
        ),
        migrations.AddConstraint(
            model_name="clinicsettings",
            constraint=models.CheckConstraint(
                condition=models.Q(("aftercare_hour__gte", 6), ("aftercare_hour__lte", 21)),
                name="aftercare_hour_by_day",
            ),
        ),
        migrations.RunPython(rewrite, restore),
    ]
