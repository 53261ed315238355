"""The offices' set-up pages (issue 17, point 4): administrators only, every refusal a
message, every change audited."""

from datetime import time

import pytest
from django.urls import reverse

from goodskin.actors import Actor
from goodskin.roles import Role
from patients.models import AuditEntry
from scheduling.models import Kind, Location, Room, WorkingHours
from scheduling.services import offices
from tests.concurrency import contend
from tests.factories import UserFactory

committing = pytest.mark.django_db(transaction=True)


def admin_actor(user) -> Actor:
    return Actor(user=user, role=Role.ADMIN, ip="127.0.0.1")


@pytest.fixture
def east(db):
    office = Location.objects.create(name="East office", address="1 East St, Salem, OR")
    Room.objects.create(location=office, name="East 1")
    return office


def office_post(**changes) -> dict:
    data = {
        "name": "East office",
        "address": "1 East St, Salem, OR",
        "phone": "503-555-0100",
        "time_zone": "America/Los_Angeles",
        "active": "on",
        "kinds": ["consultation", "session"],
    }
    return data | changes


def urls(office: Location, room: Room, hours: WorkingHours) -> dict[str, str]:
    return {
        "offices": reverse("scheduling:offices"),
        "office_new": reverse("scheduling:office_new"),
        "office": reverse("scheduling:office", args=[office.pk]),
        "hours_edit": reverse("scheduling:hours_edit", args=[office.pk, hours.pk]),
    }


def test_it_opens_the_office_pages_to_administrators_only(client, users_by_role, east, doctor):
    hours = WorkingHours.objects.create(
        doctor=doctor, location=east, weekday=0, starts=time(9), ends=time(12)
    )
    for name, url in urls(east, east.rooms.get(), hours).items():
        for role, user in users_by_role.items():
            client.force_login(user)
            status = client.get(url).status_code
            assert status == (200 if role == Role.ADMIN else 403), (name, role)
        client.logout()
        assert client.get(url).status_code in (302, 403), name


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.DOCTOR, Role.PATIENT])
def test_it_refuses_every_change_to_anyone_but_an_administrator(client, users_by_role, east, role):
    client.force_login(users_by_role[role])
    room = east.rooms.get()
    posts = [
        (reverse("scheduling:office_new"), office_post(name="Mine")),
        (reverse("scheduling:office", args=[east.pk]), office_post(name="Mine")),
        (reverse("scheduling:room_add", args=[east.pk]), {"room-name": "Mine"}),
        (reverse("scheduling:room_change", args=[east.pk, room.pk]), {f"r{room.pk}-name": "X"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert Location.objects.get(pk=east.pk).name == "East office"
    assert not Location.objects.filter(name="Mine").exists()
    assert list(east.rooms.values_list("name", flat=True)) == ["East 1"]


def test_it_links_the_offices_from_the_administrators_navigation_only(
    client, clinic_admin, front_desk
):
    client.force_login(clinic_admin)
    assert reverse("scheduling:offices") in client.get(reverse("scheduling:offices")).text
    client.force_login(front_desk)
    assert reverse("scheduling:offices") not in client.get(reverse("scheduling:day")).text


def test_it_adds_an_office_and_audits_it(client, clinic_admin, db):
    client.force_login(clinic_admin)
    response = client.post(reverse("scheduling:office_new"), office_post())
    office = Location.objects.get(name="East office")
    assert response.status_code == 302
    assert response.url == reverse("scheduling:office", args=[office.pk])
    assert office.kinds == [Kind.CONSULTATION, Kind.SESSION]
    assert office.address == "1 East St, Salem, OR" and office.active
    entry = AuditEntry.objects.get(subject=f"office:{office.pk}")
    assert entry.user == clinic_admin and entry.patient is None and entry.action == "create"


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"name": " "}, "This field is required."),
        ({"name": "East\u202eoffice"}, "hidden control character"),
        ({"time_zone": "Mars/Olympus"}, "Select a valid choice."),
        ({"kinds": []}, "Choose at least one kind of visit."),
        ({"kinds": ["surgery"]}, "Select a valid choice."),
        ({"address": "x" * 301}, "at most 300 characters"),
    ],
)
def test_it_refuses_a_bad_office_with_a_message(client, clinic_admin, db, changes, message):
    client.force_login(clinic_admin)
    count = Location.objects.count()
    response = client.post(reverse("scheduling:office_new"), office_post(**changes))
    assert response.status_code == 200
    assert message in response.text
    assert Location.objects.count() == count


def test_it_changes_an_office_and_takes_it_out_of_use(client, clinic_admin, east):
    client.force_login(clinic_admin)
    data = office_post(name="East (closed)", kinds=["review"])
    del data["active"]
    response = client.post(reverse("scheduling:office", args=[east.pk]), data)
    assert response.status_code == 302
    east.refresh_from_db()
    assert (east.name, east.active, east.kinds) == ("East (closed)", False, [Kind.REVIEW])
    assert AuditEntry.objects.filter(subject=f"office:{east.pk}", action="change").exists()


def test_it_adds_renames_and_retires_rooms(client, clinic_admin, east):
    client.force_login(clinic_admin)
    add = reverse("scheduling:room_add", args=[east.pk])
    assert client.post(add, {"room-name": "East 2"}).status_code == 302
    refused = client.post(add, {"room-name": "east 2"})
    assert "This office has a room of that name already." in refused.text
    room = east.rooms.get(name="East 2")
    change = reverse("scheduling:room_change", args=[east.pk, room.pk])
    assert client.post(change, {f"r{room.pk}-name": "Laser room"}).status_code == 302
    room.refresh_from_db()
    assert (room.name, room.active) == ("Laser room", False)
    assert east.rooms.count() == 2
    assert AuditEntry.objects.filter(subject=f"room:{room.pk}").count() == 2


def test_it_answers_404_for_a_room_of_another_office(client, clinic_admin, east, office):
    client.force_login(clinic_admin)
    other = office.rooms.first()
    url = reverse("scheduling:room_change", args=[east.pk, other.pk])
    assert client.post(url, {f"r{other.pk}-name": "Mine"}).status_code == 404


def hours_post(doctor, weekday=0, starts="09:00", ends="12:00") -> dict:
    return {
        "hours-doctor": doctor.pk,
        "hours-weekday": weekday,
        "hours-starts": starts,
        "hours-ends": ends,
    }


def test_it_adds_a_doctors_hours_at_an_office(client, clinic_admin, east, doctor):
    client.force_login(clinic_admin)
    response = client.post(reverse("scheduling:hours_add", args=[east.pk]), hours_post(doctor))
    assert response.status_code == 302
    hours = WorkingHours.objects.get(location=east)
    assert (hours.doctor, hours.weekday, hours.starts, hours.ends) == (doctor, 0, time(9), time(12))
    assert AuditEntry.objects.filter(subject=f"working hours:{hours.pk}").exists()


def test_it_refuses_hours_that_overlap_the_doctors_hours_at_another_office(
    client, clinic_admin, east, office, doctor
):
    WorkingHours.objects.create(
        doctor=doctor, location=office, weekday=0, starts=time(8), ends=time(10)
    )
    client.force_login(clinic_admin)
    response = client.post(reverse("scheduling:hours_add", args=[east.pk]), hours_post(doctor))
    assert response.status_code == 200
    assert "already works Monday 8:00 AM–10:00 AM at Goodskin Dermatology, Oregon office" in (
        response.text
    )
    assert not WorkingHours.objects.filter(location=east).exists()


def test_it_takes_hours_back_to_back_at_two_offices(client, clinic_admin, east, office, doctor):
    WorkingHours.objects.create(
        doctor=doctor, location=office, weekday=0, starts=time(8), ends=time(9)
    )
    client.force_login(clinic_admin)
    client.post(reverse("scheduling:hours_add", args=[east.pk]), hours_post(doctor))
    assert WorkingHours.objects.filter(location=east, doctor=doctor).exists()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"hours-starts": "12:00", "hours-ends": "09:00"}, "The hours end after they start."),
        ({"hours-starts": "09:00", "hours-ends": "09:00"}, "The hours end after they start."),
        ({"hours-weekday": "7"}, "Select a valid choice."),
        ({"hours-starts": "25:61"}, "Enter a valid time."),
    ],
)
def test_it_refuses_bad_hours_with_a_message(client, clinic_admin, east, doctor, changes, message):
    client.force_login(clinic_admin)
    data = hours_post(doctor) | changes
    response = client.post(reverse("scheduling:hours_add", args=[east.pk]), data)
    assert response.status_code == 200
    assert message in response.text
    assert not WorkingHours.objects.exists()


def test_it_refuses_hours_for_someone_who_is_not_a_doctor(client, clinic_admin, east, front_desk):
    client.force_login(clinic_admin)
    response = client.post(reverse("scheduling:hours_add", args=[east.pk]), hours_post(front_desk))
    assert "Select a valid choice." in response.text
    assert not WorkingHours.objects.exists()


def test_it_changes_and_removes_hours(client, clinic_admin, east, doctor):
    hours = WorkingHours.objects.create(
        doctor=doctor, location=east, weekday=0, starts=time(9), ends=time(12)
    )
    client.force_login(clinic_admin)
    url = reverse("scheduling:hours_edit", args=[east.pk, hours.pk])
    data = {"doctor": doctor.pk, "weekday": 1, "starts": "13:00", "ends": "17:00"}
    assert client.post(url, data).status_code == 302
    hours.refresh_from_db()
    assert (hours.weekday, hours.starts, hours.ends) == (1, time(13), time(17))
    assert client.post(url, {"remove": "1"}).status_code == 302
    assert not WorkingHours.objects.exists()
    assert AuditEntry.objects.filter(subject=f"working hours:{hours.pk}", action="delete")


def test_it_lists_the_offices_in_a_fixed_number_of_queries(
    client, clinic_admin, east, office, doctor, django_assert_max_num_queries
):
    for n in range(5):
        more = Location.objects.create(name=f"Office {n}")
        Room.objects.create(location=more, name="Room")
        WorkingHours.objects.create(
            doctor=doctor, location=more, weekday=n, starts=time(9), ends=time(12)
        )
    client.force_login(clinic_admin)
    client.get(reverse("scheduling:offices"))
    with django_assert_max_num_queries(8):
        response = client.get(reverse("scheduling:offices"))
    assert "Office 4" in response.text and "East office" in response.text


def test_it_shows_an_office_in_a_fixed_number_of_queries(
    client, clinic_admin, east, doctor, django_assert_max_num_queries
):
    for weekday in range(5):
        other = UserFactory(username=f"dr.{weekday}", role=Role.DOCTOR)
        for who in (doctor, other):
            WorkingHours.objects.create(
                doctor=who, location=east, weekday=weekday, starts=time(9), ends=time(12)
            )
    client.force_login(clinic_admin)
    url = reverse("scheduling:office", args=[east.pk])
    client.get(url)
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200


@committing
def test_two_administrators_cannot_give_a_doctor_overlapping_hours_at_two_offices(
    clinic_admin, doctor, east, office
):
    # The exclusion constraint of migration 0015: both checks pass before either commits, and
    # without the constraint both rows would be saved.
    def add(where, starts):
        return offices.save_hours(
            hours=None,
            office=where,
            doctor=doctor,
            weekday=0,
            starts=starts,
            ends=time(12),
            by=admin_actor(clinic_admin),
        )

    holder, contender, waited = contend(lambda: add(east, time(9)), lambda: add(office, time(10)))
    assert isinstance(holder, WorkingHours), holder
    assert isinstance(contender, offices.OfficeError), contender
    assert "Someone else saved overlapping hours meanwhile" in str(contender)
    assert waited
    assert WorkingHours.objects.filter(doctor=doctor).count() == 1


def _no_audit(*args, **kwargs):
    raise RuntimeError("the audit log is down")


@committing
@pytest.mark.parametrize(
    "change",
    ["add office", "change office", "add room", "change room", "add hours", "remove hours"],
)
def test_a_change_that_cannot_be_audited_is_not_saved(
    monkeypatch, clinic_admin, doctor, east, change
):
    # Each service's transaction: the change and its audit entry are saved together or not
    # at all (these tests commit, so without it the change would stay).
    by = admin_actor(clinic_admin)
    room = east.rooms.get()
    hours = WorkingHours.objects.create(
        doctor=doctor, location=east, weekday=0, starts=time(9), ends=time(12)
    )
    office = {"name": "New", "address": "", "phone": "", "time_zone": "America/Los_Angeles"}
    office |= {"active": True, "kinds": [Kind.REVIEW]}
    hours_at = {"office": east, "doctor": doctor, "weekday": 1, "starts": time(9)}
    hours_at |= {"ends": time(12), "by": by}
    calls = {
        "add office": lambda: offices.save_office(office=None, by=by, **office),
        "change office": lambda: offices.save_office(office=east, by=by, **office),
        "add room": lambda: offices.add_room(office=east, name="East 2", by=by),
        "change room": lambda: offices.change_room(room=room, name="X", active=False, by=by),
        "add hours": lambda: offices.save_hours(hours=None, **hours_at),
        "remove hours": lambda: offices.remove_hours(hours=hours, by=by),
    }
    before = (
        list(Location.objects.values_list("name", "active", "kinds").order_by("pk")),
        list(Room.objects.values_list("name", "active").order_by("pk")),
        list(WorkingHours.objects.values_list("pk", "weekday").order_by("pk")),
    )
    monkeypatch.setattr(offices.audit, "record", _no_audit)
    with pytest.raises(RuntimeError):
        calls[change]()
    after = (
        list(Location.objects.values_list("name", "active", "kinds").order_by("pk")),
        list(Room.objects.values_list("name", "active").order_by("pk")),
        list(WorkingHours.objects.values_list("pk", "weekday").order_by("pk")),
    )
    assert after == before
