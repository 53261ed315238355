"""Every form of the app, posted generated values by the role that may use it (issue 14,
point 7): never a 500, and a refused post (the page again, or 400) writes nothing.

The fields come from the page itself (every `name=` of its forms), so a field added to a form
is fuzzed without being listed here."""

import re
import uuid
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goodskin import tokens
from goodskin.roles import Role
from patients.models import AuditEntry
from scheduling import services
from scheduling.models import (
    BookingRequest,
    BookingStatus,
    Kind,
    Location,
    Opening,
    OpeningReason,
    Room,
    TimeOff,
    WaitlistEntry,
    WaitlistOffer,
    WorkingHours,
)
from scheduling.online_booking_link import token_for
from scheduling.services import online_booking, waitlist
from tests.factories import PatientFactory, UserFactory
from tests.scheduling.conftest import MONDAY, TZ, at, desk_actor
from tests.treatments.conftest import chart_session
from treatments import check_ins
from treatments.models import AdverseEvent

# Every row of these apps counts, but the audit of reads (a refused page is still a read).
WATCHED = [
    model
    for label in ("patients", "scheduling", "treatments", "messaging")
    for model in apps.get_app_config(label).get_models()
    if model is not AuditEntry
]

HOSTILE = st.one_of(
    st.sampled_from(
        [
            "0001-01-01",
            "9999-12-31",
            "1899-12-31",
            "2101-01-01",
            "2026-02-30",
            "2026-12-01",
            "09:00",
            "25:61",
            "-1",
            "0",
            "1e9",
            "abc",
            "",
            " ",
            "99999999999999999999",
            "2147483648",
            "00000000-0000-0000-0000-000000000000",
            "not-a-uuid",
            "x" * 10_001,
            "Ana\u202eavlis",
            "\u2066\u200f",
            "line\nbreak",
            "A\x00B",
            "on",
        ]
    ),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
)
FUZZ = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NAME = re.compile(r'name="([^"]+)"')
FORMS = 67


@pytest.fixture
def world(now, hours, front_desk, doctor, record, plan, clinic_admin):
    """A patient with an active plan, a signed chart, a booked visit and a portal account."""
    chart = chart_session(plan, doctor, treated_on=MONDAY - timedelta(days=30))
    visit = services.book_appointment(
        patient=record,
        doctor=doctor,
        kind=Kind.CONSULTATION,
        starts_at=at(MONDAY + timedelta(days=3), 9),
        by=desk_actor(front_desk),
    )
    record.portal_user = UserFactory(username="ana", role=Role.PATIENT)
    record.save(update_fields=["portal_user"])
    event = AdverseEvent.objects.create(
        plan=plan,
        chart=chart,
        type="dvt",
        onset_on=MONDAY - timedelta(days=2),
        severity="severe",
        reported_by=doctor,
    )
    # An online request whose time was taken: its page offers "choose another time".
    nonce = uuid.uuid4()
    lost = BookingRequest.objects.create(
        legal_first_name="Rosa",
        legal_last_name="Lima",
        date_of_birth="1980-01-02",
        email="rosa@example.net",
        doctor=doctor,
        starts_at=at(MONDAY + timedelta(days=3), 9),
        status=BookingStatus.LOST_TIME,
        nonce=nonce,
        token_hash=online_booking.token_hash(token_for(nonce)),
        expires_at=timezone.now() + timedelta(hours=20),
    )
    # A check-in not answered for days (the desk's list), and one answered with a warning sign
    # (the doctors' home).
    asked = check_ins.create(
        plan=plan,
        appointment_id=visit.pk,
        session_on=MONDAY - timedelta(days=4),
        days_after=1,
        due_at=at(MONDAY - timedelta(days=3), 10),
    )
    warned = check_ins.create(
        plan=plan,
        appointment_id=visit.pk,
        session_on=MONDAY - timedelta(days=4),
        days_after=7,
        due_at=at(MONDAY, 6),
    )
    reply = check_ins.answer(check_in=warned, answers=["hard_leg"])
    wish, offer = waitlist_offer(record, doctor, hours)
    block = TimeOff.objects.create(
        doctor=doctor,
        starts_at=at(MONDAY + timedelta(days=8), 8),
        ends_at=at(MONDAY + timedelta(days=8), 12),
    )
    return {
        "wish": wish.pk,
        "offer": offer,
        "block": block.pk,
        "check_in": check_ins.token_for(warned.nonce),
        "asked": asked.pk,
        "reply": reply.pk,
        "lost": token_for(lost.nonce),
        "record": record,
        "plan": plan,
        "chart": chart,
        "visit": visit,
        "event": event,
        "area": chart.areas.first(),
        "office": hours,
        # A room added to the office adds fields named by its id to the office's page: the
        # room form's fields are read from another office's page, which no example changes.
        "quiet_office": (quiet := quiet_office()),
        "quiet_hours": WorkingHours.objects.create(
            doctor=doctor, location=quiet, weekday=5, starts="09:00", ends="12:00"
        ).pk,
        "hours": WorkingHours.objects.filter(location=hours).first().pk,
        "users": {
            Role.ADMIN: clinic_admin,
            Role.FRONT_DESK: front_desk,
            Role.DOCTOR: doctor,
            Role.PATIENT: record.portal_user,
        },
    }


def quiet_office():
    office = Location.objects.create(name="Salem office", time_zone=TZ.key)
    Room.objects.create(location=office, name="Room A")
    return office


def waitlist_offer(record, doctor, office):
    """The patient waits for a consultation and has an offer of a freed time, unanswered."""
    wish = WaitlistEntry.objects.create(patient=record, kind=Kind.CONSULTATION, not_before=MONDAY)
    links = []
    # The second offer (another patient, another day) is never answered: its page shows the
    # form's fields to every example, whatever the posts to the first did.
    second = WaitlistEntry.objects.create(
        patient=PatientFactory(), kind=Kind.CONSULTATION, not_before=MONDAY
    )
    for days, entry in ((2, wish), (3, second)):
        opening = Opening.objects.create(
            doctor=doctor,
            location=office,
            starts_at=at(MONDAY + timedelta(days=days), 10),
            ends_at=at(MONDAY + timedelta(days=days), 11),
            reason=OpeningReason.CANCELLED,
        )
        nonce = uuid.uuid4()
        WaitlistOffer.objects.create(
            opening=opening,
            entry=entry,
            starts_at=opening.starts_at,
            ends_at=opening.starts_at + timedelta(minutes=30),
            nonce=nonce,
            token_hash=tokens.digest(waitlist.token_for(nonce)),
            expires_at=timezone.now() + timedelta(hours=2),
        )
        links.append(waitlist.token_for(nonce))
    return wish, links


def forms(w) -> list[tuple[str, str, str]]:
    """(role, page that shows the form, where it posts) for every form of the app."""
    r, p, c, v = w["record"].pk, w["plan"].pk, w["chart"].pk, w["visit"].pk
    e, a = w["event"].pk, w["area"].pk
    appointment = reverse("scheduling:appointment", args=[v])
    plan_page = reverse("treatments:plan", args=[r, p])
    chart_page = reverse("treatments:chart", args=[r, c])
    event_page = reverse("treatments:event", args=[r, e])
    office = w["office"]
    office_page = reverse("scheduling:office", args=[office.pk])
    room = office.rooms.first()
    quiet = w["quiet_office"]
    return [
        (Role.FRONT_DESK, reverse("patients:create"), reverse("patients:create")),
        (Role.FRONT_DESK, reverse("patients:edit", args=[r]), reverse("patients:edit", args=[r])),
        (Role.FRONT_DESK, reverse("patients:screening", args=[r]), "same"),
        (Role.DOCTOR, reverse("patients:merge", args=[r]), "same"),
        (
            Role.FRONT_DESK,
            reverse("patients:detail", args=[r]),
            reverse("patients:invite", args=[r]),
        ),
        (Role.FRONT_DESK, reverse("patients:list"), "get"),
        (Role.FRONT_DESK, reverse("scheduling:book", args=[r]), "same"),
        (Role.FRONT_DESK, reverse("scheduling:book_series", args=[p]), "same"),
        (Role.FRONT_DESK, reverse("scheduling:slots"), "get"),
        (Role.FRONT_DESK, reverse("scheduling:day"), "get"),
        (Role.FRONT_DESK, reverse("scheduling:week"), "get"),
        (Role.DOCTOR, reverse("scheduling:my_day"), "get"),
        (Role.FRONT_DESK, reverse("scheduling:time_off"), "same"),
        (Role.DOCTOR, reverse("scheduling:time_off"), "same"),
        (Role.FRONT_DESK, appointment, reverse("scheduling:move", args=[v])),
        (Role.FRONT_DESK, appointment, reverse("scheduling:cancel", args=[v])),
        (Role.DOCTOR, appointment, reverse("scheduling:status", args=[v])),
        (Role.DOCTOR, reverse("treatments:consultation_create", args=[r]), "same"),
        (Role.DOCTOR, reverse("treatments:plan_create", args=[r]), "same"),
        (Role.DOCTOR, plan_page, reverse("treatments:plan_status", args=[r, p])),
        (Role.DOCTOR, reverse("treatments:chart_create", args=[r, p]), "same"),
        (Role.DOCTOR, reverse("treatments:event_create", args=[r, p]), "same"),
        (
            Role.DOCTOR,
            reverse("treatments:chart", args=[r, c]),
            reverse("treatments:chart_amend", args=[r, c]),
        ),
        (Role.PATIENT, reverse("portal:appointment", args=[v]), reverse("portal:cancel", args=[v])),
        (Role.PATIENT, reverse("portal:cancel", args=[v]), "same"),
        (
            Role.PATIENT,
            reverse("portal:appointment", args=[v]),
            reverse("portal:undo_cancel", args=[v]),
        ),
        (Role.PATIENT, reverse("portal:move", args=[v]), "same"),
        (Role.PATIENT, reverse("portal:preferences"), "same"),
        (Role.PATIENT, reverse("portal:calendar"), "same"),
        (Role.DOCTOR, plan_page, reverse("treatments:plan_clear", args=[r, p])),
        (Role.DOCTOR, reverse("treatments:touch_up_create", args=[r, p]), "same"),
        (Role.DOCTOR, chart_page, reverse("treatments:chart_sign", args=[r, c])),
        (Role.DOCTOR, chart_page, reverse("treatments:chart_cosign", args=[r, c])),
        (Role.DOCTOR, reverse("treatments:area_amend", args=[r, c, a]), "same"),
        (Role.DOCTOR, event_page, "same"),
        (Role.DOCTOR, event_page, reverse("treatments:event_follow_up", args=[r, e])),
        (Role.DOCTOR, event_page, reverse("treatments:event_close", args=[r, e])),
        (Role.DOCTOR, event_page, reverse("treatments:event_acknowledge", args=[r, e])),
        (Role.PATIENT, reverse("portal:book_next"), "same"),
        (Role.PATIENT, reverse("portal:screening"), "same"),
        (
            Role.DOCTOR,
            reverse("patients:screening", args=[r]),
            reverse("patients:review_answers", args=[r]),
        ),
        (Role.PATIENT, reverse("two_factor_setup"), "same"),
        (Role.PATIENT, reverse("two_factor_manage"), "same"),
        (
            Role.FRONT_DESK,
            reverse("patients:detail", args=[r]),
            reverse("patients:reset_two_factor", args=[r]),
        ),
        (None, reverse("login"), "same"),
        (None, reverse("password_reset"), "same"),
        (None, reverse("portal:book"), "same"),
        (Role.FRONT_DESK, reverse("scheduling:online_requests"), "same"),
        (None, reverse("portal:book_confirm", args=[w["lost"]]), "same"),
        (None, reverse("portal:check_in", args=[w["check_in"]]), "same"),
        # The home pages' one-field forms vanish once a post succeeds: their field ("note")
        # is read from the check-in page, which always has one.
        (
            Role.DOCTOR,
            reverse("portal:check_in", args=[w["check_in"]]),
            reverse("treatments:check_in_handle", args=[w["reply"]]),
        ),
        (
            Role.FRONT_DESK,
            reverse("portal:check_in", args=[w["check_in"]]),
            reverse("scheduling:check_in_called", args=[w["asked"]]),
        ),
        (Role.FRONT_DESK, reverse("scheduling:waitlist_add", args=[r]), "same"),
        (
            Role.FRONT_DESK,
            reverse("scheduling:waitlist"),
            reverse("scheduling:waitlist_remove", args=[w["wish"]]),
        ),
        (
            Role.DOCTOR,
            reverse("scheduling:time_off"),
            reverse("scheduling:time_off_lift", args=[w["block"]]),
        ),
        (Role.PATIENT, reverse("portal:waitlist"), "same"),
        (
            Role.PATIENT,
            reverse("portal:waitlist"),
            reverse("portal:leave_waitlist", args=[w["wish"]]),
        ),
        (
            None,
            reverse("portal:waitlist_offer", args=[w["offer"][1]]),
            reverse("portal:waitlist_offer", args=[w["offer"][0]]),
        ),
        # The offices' set-up (issue 17, point 4).
        (Role.ADMIN, reverse("scheduling:office_new"), "same"),
        (Role.ADMIN, office_page, "same"),
        (
            Role.ADMIN,
            reverse("scheduling:office", args=[w["quiet_office"].pk]),
            reverse("scheduling:room_add", args=[office.pk]),
        ),
        (Role.ADMIN, office_page, reverse("scheduling:room_change", args=[office.pk, room.pk])),
        (Role.ADMIN, office_page, reverse("scheduling:hours_add", args=[office.pk])),
        # An example may remove the hours it posts to: the fields are read from hours no
        # example touches, and a post to hours already removed answers 404.
        (
            Role.ADMIN,
            reverse("scheduling:hours_edit", args=[quiet.pk, w["quiet_hours"]]),
            reverse("scheduling:hours_edit", args=[office.pk, w["hours"]]),
        ),
        # The reports' filters (issue 18, point 2; their CSV file in tests/reports/).
        (Role.ADMIN, reverse("reports:index"), "get"),
        (Role.DOCTOR, reverse("reports:report", args=["sessions"]), "get"),
        (Role.ADMIN, reverse("reports:report", args=["adverse-events"]), "get"),
    ]


def counts() -> dict[str, int]:
    """The rows of every watched table, all in one query."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            " UNION ALL ".join(
                f"SELECT %s, count(*) FROM {quote(model._meta.db_table)}" for model in WATCHED
            ),
            [model._meta.label for model in WATCHED],
        )
        return dict(cursor.fetchall())


def field_names(client, page: str) -> list[str]:
    html = client.get(page).content.decode()
    names = sorted(set(NAME.findall(html)) - {"csrfmiddlewaretoken"})
    return names or ["x"]


# The fields each form's page shows, read once per world: the pages are chosen so that no
# example changes them (see forms()), and some take 0.4 s to write.
FIELDS: dict[tuple, list[str]] = {}


@pytest.mark.parametrize("index", range(FORMS))
@FUZZ
@given(data=st.data())
def test_it_answers_any_input_to_any_form_without_a_500_or_a_partial_write(
    client, world, index, data
):
    role, page, action = forms(world)[index]
    if role is not None:  # None: a page for anyone (login, password reset)
        client.force_login(world["users"][role])
    key = (world["record"].pk, index)
    if key not in FIELDS:
        FIELDS[key] = field_names(client, page)
    names = FIELDS[key]
    values = data.draw(st.dictionaries(st.sampled_from(names), HOSTILE, max_size=len(names)))
    before = counts()
    if action == "get":
        response = client.get(page, values)
    else:
        response = client.post(page if action == "same" else action, values)
    # The test client raises any exception a view lets through (a 500) itself.
    # 404: an earlier example removed what this one posts to (the hours of an office).
    assert response.status_code in (200, 302, 400, 404), (page, values)
    if response.status_code != 302:
        assert counts() == before, (page, values)


def test_it_fuzzes_every_form_listed(world):
    assert len(forms(world)) == FORMS
