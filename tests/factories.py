"""factory_boy factories shared by the test suite."""

from functools import cache

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from goodskin.roles import Role, group_for

PASSWORD = "correct-horse-battery-staple"


@cache
def hashed(password: str) -> str:
    """The password's hash, made once per password for the whole run: Argon2 as the clinic
    sets it takes about 0.2 s a hash, and the suite makes thousands of users. Logging in
    still checks it the slow way, as production does."""
    return make_password(password)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.password = hashed(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])

    @factory.post_generation
    def role(self, create, extracted: Role | None, **kwargs):
        if not create or extracted is None:
            return
        if extracted == Role.ADMIN:
            self.is_staff = self.is_superuser = True
            self.save(update_fields=["is_staff", "is_superuser"])
        else:
            self.groups.add(group_for(extracted))


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "patients.Patient"

    legal_first_name = factory.Faker("first_name_female")
    legal_last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=25, maximum_age=80)
    sex = "female"
    phone = factory.Sequence(lambda n: f"+1503555{n % 10000:04d}")
    email = factory.LazyAttributeSequence(
        lambda p, n: f"{p.legal_first_name}.{p.legal_last_name}.{n}@example.org".lower()
    )
    city = "Portland"
    state = "OR"
    consent_email = True


def screen(patient, by=None, **answers: str) -> None:
    """Record screening answers, e.g. screen(patient, estrogen="yes")."""
    from goodskin.actors import Actor
    from patients.services import record_screening

    actor = Actor(user=by, role=None)
    record_screening(patient=patient, answers={k: (v, "") for k, v in answers.items()}, by=actor)
