"""The table of the words of the active patients' names, for the typo-forgiving search; its
indexes, triggers and first count are in 0011 (PostgreSQL only), which runs after Django's own
deferred index on the primary key exists, so that it can drop it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0009_patient_language"),
    ]

    operations = [
        migrations.CreateModel(
            name="NameWord",
            fields=[
                ("word", models.CharField(max_length=320, primary_key=True, serialize=False)),
                ("patients", models.IntegerField()),
            ],
            options={
                "verbose_name": "name word",
            },
        ),
    ]
