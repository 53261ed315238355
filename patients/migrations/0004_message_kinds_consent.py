"""The patient chooses per kind of message (appointment reminders, aftercare advice) besides
the channel (issue 13, point 8). Both start on: agreeing to a channel meant both until now."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0003_screening_confirmed"),
    ]

    operations = [
        migrations.AddField(
            model_name="patient",
            name="consent_aftercare",
            field=models.BooleanField(
                default=True, verbose_name="wants aftercare advice after each session"
            ),
        ),
        migrations.AddField(
            model_name="patient",
            name="consent_aftercare_on",
            field=models.DateField(null=True, verbose_name="aftercare choice made on"),
        ),
        migrations.AddField(
            model_name="patient",
            name="consent_reminders",
            field=models.BooleanField(default=True, verbose_name="wants appointment reminders"),
        ),
        migrations.AddField(
            model_name="patient",
            name="consent_reminders_on",
            field=models.DateField(null=True, verbose_name="reminder choice made on"),
        ),
    ]
