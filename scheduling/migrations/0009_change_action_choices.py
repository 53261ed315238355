"""AppointmentChange.action takes its values from ChangeAction: choices only, nothing changes
in the database (the column and its rows stay as they are)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0008_reminder_moves_to_messaging"),
    ]

    operations = [
        migrations.AlterField(
            model_name="appointmentchange",
            name="action",
            field=models.CharField(
                choices=[
                    ("booked", "Booked"),
                    ("moved", "Moved"),
                    ("cancelled", "Cancelled"),
                    ("status:checked_in", "Status: Checked in"),
                    ("status:in_progress", "Status: In progress"),
                    ("status:completed", "Status: Completed"),
                    ("status:no_show", "Status: Did not come"),
                    ("status:booked", "Status: Booked"),
                ],
                max_length=20,
            ),
        ),
    ]
