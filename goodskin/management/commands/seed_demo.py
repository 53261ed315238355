"""Demo data for every role, so a new user can log in and look around.

Idempotent: what exists is left as it is. Users come first (passwords are random and printed
once, when a user is created; --reset-passwords prints new ones); then each clinic app adds its
own demo data through its `demo.seed(stdout)` function, in the order of DEMO_APPS. Refuses to run
with DEBUG off unless --allow-production is given, so demo logins never appear on a real
clinic's server by mistake.
"""

import importlib
import importlib.util
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from goodskin.roles import GROUP_NAMES, Role, group_for

# (username, first name, last name, role); emails are username@demo.goodskin.test
DEMO_USERS = (
    ("admin", "Clinic", "Administrator", Role.ADMIN),
    ("frontdesk", "Fiona", "Reyes", Role.FRONT_DESK),
    ("dr.nguyen", "Linh", "Nguyen", Role.DOCTOR),
    ("dr.patel", "Arjun", "Patel", Role.DOCTOR),
    ("maria.garcia", "María", "García", Role.PATIENT),
    ("susan.miller", "Susan", "Miller", Role.PATIENT),
    ("jennifer.oconnor", "Jennifer", "O'Connor", Role.PATIENT),
    ("linda.johnson", "Linda", "Johnson", Role.PATIENT),
    ("karen.thompson", "Karen", "Thompson", Role.PATIENT),
)
EMAIL_DOMAIN = "demo.goodskin.test"
# Apps with a demo module, left to right as they depend on each other.
DEMO_APPS = ("patients", "treatments", "scheduling")


def new_password() -> str:
    return secrets.token_urlsafe(9)


class Command(BaseCommand):
    help = "Create demo users and clinic data (idempotent) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--reset-passwords", action="store_true")
        parser.add_argument("--allow-production", action="store_true")

    def handle(self, *args, reset_passwords: bool, allow_production: bool, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "DEBUG is off: this looks like a real clinic. Pass --allow-production to add "
                "demo users anyway."
            )
        with transaction.atomic():
            printed = self.seed_users(reset_passwords)
            for app in DEMO_APPS:
                if importlib.util.find_spec(f"{app}.demo") is not None:
                    importlib.import_module(f"{app}.demo").seed(self.stdout)
        self.print_logins(printed)

    def seed_users(self, reset_passwords: bool) -> list[tuple]:
        User = get_user_model()
        printed = []
        for username, first, last, role in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@{EMAIL_DOMAIN}",
                    "is_staff": role == Role.ADMIN,
                    "is_superuser": role == Role.ADMIN,
                },
            )
            if role in GROUP_NAMES:
                user.groups.add(group_for(role))
            if created or reset_passwords:
                password = new_password()
                user.set_password(password)
                user.save(update_fields=["password"])
                printed.append((role.label, username, password))
        return printed

    def print_logins(self, printed: list[tuple]) -> None:
        if printed:
            self.stdout.write("Demo logins (shown once; --reset-passwords prints new ones):")
            for role_label, username, password in printed:
                self.stdout.write(f"  {role_label:<14} {username:<18} {password}")
        else:
            self.stdout.write(
                "Demo users already exist; their passwords were printed when they were created. "
                "Run `python manage.py seed_demo --reset-passwords` for new ones."
            )
