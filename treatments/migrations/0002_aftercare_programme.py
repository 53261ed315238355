"""The clinic's after-session programme (../shared/domain/CLINICAL.md and the clinic page) and its
settings row. Administrators change both in the Django admin afterwards."""

from django.db import migrations

STEPS = (
    {
        "key": "checkout",
        "order": 10,
        "title": "Right after your session",
        "anchor": "session",
        "offset_days": 0,
        "email_subject": "After your sclerotherapy session today",
        "email_body": (
            "Keep your support hose on day and night for the next two weeks.\n"
            "Walk for 15 to 20 minutes now: walking right after the session helps.\n"
            "You can go back to your normal activities within 24 hours.\n"
            "Redness and some bruising are normal. Treated veins can turn brown for a while as "
            "your body absorbs them; this fades."
        ),
        "sms_text": (
            "Goodskin: keep your support hose on for 2 weeks, walk 15-20 min now, normal "
            "activity within 24 h. Redness, bruising and browning are normal."
        ),
    },
    {
        "key": "days-0-3",
        "order": 20,
        "title": "The first three days",
        "anchor": "session",
        "offset_days": 1,
        "email_subject": "The first days after your session",
        "email_body": (
            "For three days after your session: no hot baths, hot tubs or sauna, no sunbathing "
            "on the treated legs, no heavy exercise and no long flights. Showers and walking "
            "are fine."
        ),
        "sms_text": (
            "Goodskin: for 3 days, no hot baths, sauna, sun on your legs, heavy exercise or long "
            "flights. Walking is good."
        ),
    },
    {
        "key": "hose-end",
        "order": 30,
        "title": "When the support-hose period ends",
        "anchor": "hose_end",
        "offset_days": 0,
        "email_subject": "You can stop wearing your support hose",
        "email_body": (
            "Your support-hose period is over: you can stop wearing them now. Keep walking "
            "every day."
        ),
        "sms_text": "Goodskin: your support-hose period is over, you can stop wearing them.",
    },
    {
        "key": "book-next",
        "order": 40,
        "title": "Book your next session",
        "anchor": "interval_end",
        "offset_days": 0,
        "email_subject": "Time to book your next session",
        "email_body": (
            "Your next sclerotherapy session can take place from now on. Call the clinic or "
            "book online to choose a time."
        ),
        "sms_text": "Goodskin: your next session can be booked now. Call us or book online.",
    },
)


def seed(apps, schema_editor):
    AftercareStep = apps.get_model("treatments", "AftercareStep")
    ClinicSettings = apps.get_model("treatments", "ClinicSettings")
    for step in STEPS:
        AftercareStep.objects.get_or_create(key=step["key"], defaults=step)
    if not ClinicSettings.objects.exists():
        ClinicSettings.objects.create()


def unseed(apps, schema_editor):
    AftercareStep = apps.get_model("treatments", "AftercareStep")
    AftercareStep.objects.filter(key__in=[s["key"] for s in STEPS]).delete()


class Migration(migrations.Migration):
    dependencies = [("treatments", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
