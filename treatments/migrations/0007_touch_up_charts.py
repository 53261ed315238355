from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0006_adverse_event_follow_ups"),
    ]

    operations = [
        migrations.AddField(
            model_name="sessionchart",
            name="visit",
            field=models.CharField(
                choices=[("session", "Session"), ("touch_up", "Touch-up")],
                default="session",
                max_length=10,
                verbose_name="visit",
            ),
        ),
    ]
