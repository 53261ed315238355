"""The rows every page reads first, each through a statement prepared once per connection
(goodskin.row_versions.prepared_objects; issue 19): the session (goodskin.sessions), the user
and their groups (auth.UsernameOrEmailBackend.get_user), the session's second-step device
(middleware.OTPMiddleware) and the offices (scheduling.services.every_location). Each gives
what Django's own read gives, and a change committed before a request shows in that request:
nothing is kept between requests."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from goodskin import two_factor
from goodskin.auth import UsernameOrEmailBackend
from goodskin.roles import Role, group_for
from goodskin.sessions import SessionStore
from scheduling.models import Kind, Location
from scheduling.services import every_location, first_location
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

DAY = reverse("scheduling:day")


def fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_a_session_reads_as_djangos_own_store_reads_it():
    store = SessionStore()
    store.update({"a": 1, "b": ["x", "y"]})
    store.create()
    assert SessionStore(store.session_key).load() == {"a": 1, "b": ["x", "y"]}
    assert DjangoStore(store.session_key).load() == SessionStore(store.session_key).load()


def test_an_expired_or_removed_session_is_none():
    store = SessionStore()
    store["a"] = 1
    store.create()
    Session.objects.filter(pk=store.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    expired = SessionStore(store.session_key)
    assert expired.load() == {} and expired.session_key is None
    gone = SessionStore("abcdefgh12345678")
    assert gone.load() == {} and gone.session_key is None


@pytest.mark.parametrize(
    "key", ["short", "abcdefgh\x00ijklmnop", "abcdefgh-ijklmnop", "abcdéfghijklmnop", ""]
)
def test_a_cookie_that_is_no_session_key_is_no_session_and_costs_no_query(key):
    with CaptureQueriesContext(connection) as queries:
        store = SessionStore(key)
        assert dict(store.items()) == {} and store.session_key is None  # as a request reads it
    assert queries.captured_queries == []


def test_a_session_removed_between_two_requests_logs_out(client, front_desk):
    client.force_login(front_desk)
    assert client.get(DAY).status_code == 200
    Session.objects.all().delete()
    answer = client.get(DAY)
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("login"))


def test_the_user_reads_as_the_orm_reads_them_with_their_groups(front_desk):
    both = UserFactory(username="two-roles", role=Role.DOCTOR)
    both.groups.add(group_for(Role.FRONT_DESK))
    nobody = UserFactory(username="no-role")
    backend = UsernameOrEmailBackend()
    for user in (front_desk, both, nobody):
        read = backend.get_user(user.pk)
        assert fields(read) == fields(ModelBackend().get_user(user.pk))
        assert sorted(read.group_names) == sorted(user.groups.values_list("name", flat=True))
    assert backend.get_user(10**9) is None


def test_a_role_changed_or_an_account_closed_between_two_requests_shows_in_the_next(
    client, front_desk
):
    client.force_login(front_desk)
    assert client.get(DAY).status_code == 200
    front_desk.groups.set([group_for(Role.PATIENT)])
    assert client.get(DAY).status_code == 403
    front_desk.groups.set([group_for(Role.FRONT_DESK)])
    assert client.get(DAY).status_code == 200
    get_user_model().objects.filter(pk=front_desk.pk).update(is_active=False)
    answer = client.get(DAY)
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("login"))


@pytest.fixture
def second_step(settings, client, front_desk):
    """A front desk session that owes its second step, and the user's app (confirmed)."""
    settings.TWO_FACTOR_ROLES = ["front_desk"]
    client.force_login(front_desk)
    session = client.session
    session[two_factor.NEEDED] = True
    session.save()
    return TOTPDevice.objects.create(user=front_desk, name="app", confirmed=True)


def passed_with(client, persistent_id: str) -> bool:
    """Does a session that names this device as its second step open the day view?"""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = persistent_id
    session.save()
    answer = client.get(DAY)
    assert answer.status_code in (200, 302)
    return answer.status_code == 200


def test_the_sessions_own_device_passes_the_second_step(client, second_step, front_desk):
    assert passed_with(client, second_step.persistent_id)
    recovery = StaticDevice.objects.create(user=front_desk, name="codes", confirmed=True)
    assert passed_with(client, recovery.persistent_id)


def test_a_device_changed_between_two_requests_shows_in_the_next(client, second_step):
    assert passed_with(client, second_step.persistent_id)
    TOTPDevice.objects.filter(pk=second_step.pk).update(confirmed=False)
    assert client.get(DAY).status_code == 302
    assert DEVICE_ID_SESSION_KEY not in client.session  # as django-otp: forgotten
    TOTPDevice.objects.filter(pk=second_step.pk).update(confirmed=True)
    assert passed_with(client, second_step.persistent_id)
    second_step.delete()
    assert client.get(DAY).status_code == 302


def test_another_users_device_or_no_device_does_not_pass(client, second_step, doctor):
    theirs = TOTPDevice.objects.create(user=doctor, name="app", confirmed=True)
    assert not passed_with(client, theirs.persistent_id)
    for made_up in [
        f"auth.user/{doctor.pk}",  # a row, not a device
        f"otp_totp.totpdevice/{theirs.pk + 100}",
        "otp_totp.totpdevice/x",
        "otp_totp.totpdevice/",
        "nothing.here/1",
        "a.b.c.d/1",
        "no-slash",
        "",
    ]:
        assert not passed_with(client, made_up), made_up


def test_the_offices_read_as_the_orm_reads_them():
    Location.objects.create(name="B", kinds=[Kind.CONSULTATION.value], active=False)
    Location.objects.create(name="A", time_zone="America/Boise", phone="541 555 0100")
    expected = [fields(o) for o in Location.objects.order_by("pk")]
    assert [fields(o) for o in every_location()] == expected
    assert fields(first_location()) == expected[0]
    Location.objects.filter(pk=first_location().pk).update(name="Renamed")
    assert first_location().name == "Renamed"


def test_no_offices_yet():
    Location.objects.all().delete()
    assert every_location() == [] and first_location() is None
