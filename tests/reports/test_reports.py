"""Issue 18, point 2: reports with charts. Each number on a small known clinic (conftest),
the filters by office and doctor, the CSV against the table, the SVG, who may open them, and
query counts that do not grow with the period."""

import csv
import io
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from goodskin.roles import Role
from reports.catalogue import REPORTS
from reports.period import Period
from tests.factories import PatientFactory
from tests.goodskin.test_forms_property import FUZZ, HOSTILE

from .conftest import MONDAY, WEEK_1, WEEK_2, week_row

SVG = "{http://www.w3.org/2000/svg}"


def build(slug, clinic=None, **filters):
    period = Period(MONDAY - timedelta(weeks=11), MONDAY, **filters)
    return REPORTS[slug].build(period)


def test_it_counts_sessions_and_touch_ups_done_per_week(clinic):
    report = build("sessions")
    assert [c.label for c in report.columns] == ["Sessions", "Touch-ups", "Total"]
    assert week_row(report, WEEK_2).values == [6, 0, 6]
    assert week_row(report, WEEK_1).values == [0, 2, 2]
    assert report.total.values == [6, 2, 8]
    assert len(report.rows) == 12


def test_it_counts_a_patient_as_new_at_their_first_consultation_only(clinic):
    report = build("new-patients")
    assert week_row(report, WEEK_1).values == [1]  # X
    assert week_row(report, WEEK_2).values == [1]  # Y; X again and Z (seen last year) are not
    assert report.total.values == [2]


def test_it_counts_consultations_that_became_plans(clinic):
    report = build("consultations")
    assert week_row(report, WEEK_2).values == [4, 3, 75.0]
    assert week_row(report, WEEK_1).values == [0, 0, None]


def test_it_counts_plans_completed_and_stopped(clinic):
    report = build("plans")
    assert week_row(report, WEEK_2).values == [2, 1, 3, 66.7]
    assert report.total.values == [2, 1, 3, 66.7]


def test_it_shows_3_no_shows_of_10_visits_due(clinic, client):
    report = build("attendance", doctor=clinic.doctor)
    assert week_row(report, WEEK_2).values == [10, 3, 30.0, 1, 10.0]
    client.force_login(clinic.doctor)
    page = client.get(
        reverse("reports:report", args=["attendance"]), {"doctor": clinic.doctor.pk}
    ).content.decode()
    assert (
        '<td class="text-end">10</td><td class="text-end">3</td><td class="text-end">30.0</td>'
        in page
    )


def test_it_counts_no_shows_at_every_office_without_a_filter(clinic):
    report = build("attendance")
    assert week_row(report, WEEK_2).values == [13, 3, 23.1, 1, 7.7]
    assert week_row(report, WEEK_1).values == [4, 1, 25.0, 0, 0.0]


def test_it_counts_times_freed_and_filled_from_the_waitlist(clinic):
    report = build("waitlist")
    assert [c.label for c in report.columns][:3] == [
        "Times freed",
        "Filled from the waitlist",
        "Filled (%)",
    ]
    assert week_row(report, WEEK_2).values == [3, 1, 33.3, 2, 1]


def test_it_counts_adverse_events_per_100_sessions_by_kind(clinic):
    report = build("adverse-events")
    rows = {row.key: row.values for row in report.rows}
    assert rows["Bruising"] == [2, 25.0]  # 2 of 8 sessions and touch-ups
    assert rows["Deep vein thrombosis"] == [1, 12.5]
    assert rows["Infection"] == [0, 0.0]
    assert report.total.values == [3, 37.5]


def test_it_counts_messages_sent_and_failed_by_the_week_they_fell_due(clinic):
    report = build("messages")
    assert week_row(report, WEEK_2).values == [5, 4, 1, 20.0]
    assert report.total.values == [5, 4, 1, 20.0]


def test_it_narrows_every_report_to_an_office(clinic):
    east = {"office": clinic.east}
    assert build("sessions", **east).total.values == [0, 2, 2]
    assert build("new-patients", **east).total.values == [2]
    assert build("attendance", **east).total.values == [7, 1, 14.3, 0, 0.0]
    assert build("consultations", **east).total.values == [1, 1, 100.0]
    assert build("plans", **east).total.values == [0, 0, 0, None]
    assert build("waitlist", **east).total.values == [0, 0, None, 0, 0]
    assert build("adverse-events", **east).total.values == [0, 0.0]
    assert build("messages", **east).total.values == [0, 0, 0, None]
    oregon = {"office": clinic.office}
    assert build("sessions", **oregon).total.values == [6, 0, 6]
    assert build("adverse-events", **oregon).total.values == [3, 50.0]
    assert build("messages", **oregon).total.values == [3, 2, 1, 33.3]
    assert build("waitlist", **oregon).total.values == [3, 1, 33.3, 2, 1]


def test_it_narrows_every_report_to_a_doctor(clinic):
    ray = {"doctor": clinic.other}
    assert build("sessions", **ray).total.values == [0, 2, 2]
    assert build("new-patients", **ray).total.values == [2]
    assert build("consultations", **ray).total.values == [0, 0, None]
    assert build("plans", **ray).total.values == [0, 0, 0, None]
    assert build("waitlist", **ray).total.values == [0, 0, None, 0, 0]
    assert build("adverse-events", **ray).total.values == [0, 0.0]
    assert build("messages", **ray).total.values == [0, 0, 0, None]
    lee = {"doctor": clinic.doctor}
    assert build("consultations", **lee).total.values == [4, 3, 75.0]
    assert build("plans", **lee).total.values == [2, 1, 3, 66.7]
    assert build("adverse-events", **lee).total.values == [3, 50.0]
    assert build("messages", **lee).total.values == [3, 2, 1, 33.3]


@pytest.mark.parametrize("slug", sorted(REPORTS))
def test_it_downloads_the_table_s_numbers_as_csv(clinic, client, slug):
    client.force_login(clinic.doctor)
    query = {"first_day": WEEK_1.isoformat(), "last_day": MONDAY.isoformat()}
    response = client.get(reverse("reports:csv", args=[slug]), query)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="{slug}-' in response["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    page = client.get(reverse("reports:report", args=[slug]), query)
    report = page.context["report"]
    assert lines[0] == [report.first_column, *(c.label for c in report.columns)]
    expected = [
        [row.key, *("" if v is None else str(v) for v in row.values)] for row in report.rows
    ]
    assert lines[1:-1] == expected
    assert lines[-1][1:] == ["" if v is None else str(v) for v in report.total.values]
    html = page.content.decode()
    for row in report.rows:
        assert row.label in html
        for cell in row.cells:
            assert f'<td class="text-end">{cell}</td>' in html


@pytest.mark.parametrize("slug", sorted(set(REPORTS) - {"adverse-events"}))
def test_it_draws_a_well_formed_svg_with_one_bar_per_week(clinic, client, slug):
    client.force_login(clinic.doctor)
    for first_day, weeks in ((WEEK_2, 2), (MONDAY - timedelta(weeks=104), 105)):
        page = client.get(
            reverse("reports:report", args=[slug]),
            {"first_day": first_day.isoformat(), "last_day": MONDAY.isoformat()},
        )
        svg = ET.fromstring(str(page.context["report"].chart))
        assert svg.get("role") == "img"
        assert svg.find(f"{SVG}title").text == str(REPORTS[slug].title)
        assert svg.find(f"{SVG}desc").text
        columns = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "gs-week"]
        assert len(columns) == weeks
        assert "style=" not in page.content.decode()


def test_it_draws_the_sessions_bar_of_a_week_as_tall_as_its_count(clinic):
    svg = ET.fromstring(str(build("sessions").chart))
    week = next(g for g in svg.iter(f"{SVG}g") if g.get("data-week") == WEEK_2.isoformat())
    (bar,) = week.iter(f"{SVG}rect")
    assert "Sessions 6" in bar.find(f"{SVG}title").text


def test_it_draws_a_bar_per_kind_of_adverse_event(clinic):
    svg = ET.fromstring(str(build("adverse-events").chart))
    kinds = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "gs-kind"]
    assert len(kinds) == 13
    bars = [rect.find(f"{SVG}title").text for rect in svg.iter(f"{SVG}rect")]
    assert bars == ["Bruising: 25", "Deep vein thrombosis: 12.5"]


@pytest.mark.parametrize("name", ["reports:index", "reports:report", "reports:csv"])
def test_it_lets_administrators_and_doctors_in_and_no_one_else(client, users_by_role, name):
    path = reverse(name, args=[] if name == "reports:index" else ["sessions"])
    expected = {Role.ADMIN: 200, Role.DOCTOR: 200, Role.FRONT_DESK: 403, Role.PATIENT: 403}
    for role, user in users_by_role.items():
        client.force_login(user)
        assert client.get(path).status_code == expected[role], role
    client.logout()
    assert client.get(path).status_code == 302


def test_it_answers_404_for_a_report_that_does_not_exist(client, doctor):
    client.force_login(doctor)
    assert client.get(reverse("reports:report", args=["nothing"])).status_code == 404
    assert client.get(reverse("reports:csv", args=["nothing"])).status_code == 404


def test_it_offers_reports_in_the_administrator_s_and_doctor_s_navigation(client, users_by_role):
    link = f'href="{reverse("reports:index")}"'
    for role, user in users_by_role.items():
        client.force_login(user)
        page = client.get(
            reverse("scheduling:offices" if role == Role.ADMIN else "home"), follow=True
        )
        assert (link in page.content.decode()) == (role in (Role.ADMIN, Role.DOCTOR)), role


def test_it_shows_the_administrator_no_patient_data(clinic, client, clinic_admin):
    """Names no page would hold by chance: the treated patient's, and another one's."""
    PatientFactory(legal_first_name="Ysolde", legal_last_name="Brandywine")
    clinic.plan.patient.__class__.objects.filter(pk=clinic.plan.patient_id).update(
        legal_first_name="Quintessa", legal_last_name="Marchbanks"
    )
    client.force_login(clinic_admin)
    pages = [reverse("reports:index")]
    for slug in REPORTS:
        pages += [reverse("reports:report", args=[slug]), reverse("reports:csv", args=[slug])]
    for path in pages:
        text = client.get(path, {"office": clinic.office.pk}).content.decode().lower()
        for name in ("ysolde", "brandywine", "quintessa", "marchbanks"):
            assert name not in text, (path, name)


@pytest.mark.parametrize("slug", sorted(REPORTS))
def test_its_queries_do_not_grow_with_the_period(
    clinic, client, slug, django_assert_max_num_queries
):
    client.force_login(clinic.doctor)
    path = reverse("reports:report", args=[slug])
    counts = []
    for days in (6, 730):
        query = {
            "first_day": (MONDAY - timedelta(days=days)).isoformat(),
            "last_day": MONDAY.isoformat(),
            "office": clinic.office.pk,
            "doctor": clinic.doctor.pk,
        }
        with django_assert_max_num_queries(12) as captured:
            assert client.get(path, query).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize(
    ("first_day", "last_day", "error"),
    [
        ("2026-11-30", "2026-11-01", "The end of the period is before its start."),
        ("2023-01-01", "2026-11-30", "Choose a period of at most three years"),
        ("0001-01-01", "2026-11-30", "Check the year"),
        ("2026-02-30", "2026-11-30", "Enter a valid date."),
    ],
)
def test_it_refuses_a_period_it_cannot_show_with_a_message(
    clinic, client, first_day, last_day, error
):
    client.force_login(clinic.doctor)
    query = {"first_day": first_day, "last_day": last_day}
    page = client.get(reverse("reports:report", args=["sessions"]), query)
    assert page.status_code == 200
    assert error in page.content.decode()
    assert page.context["report"] is None
    csv_file = client.get(reverse("reports:csv", args=["sessions"]), query)
    assert csv_file.status_code == 400
    assert error in csv_file.content.decode()


def test_it_shows_the_last_12_weeks_by_default(clinic, client):
    client.force_login(clinic.doctor)
    report = client.get(reverse("reports:report", args=["sessions"])).context["report"]
    assert len(report.rows) == 12
    assert report.rows[-1].key == MONDAY.isoformat()
    assert report.rows[0].label == "September 14, 2026"


def test_it_writes_weeks_in_spanish_for_a_spanish_reader(clinic, client):
    client.force_login(clinic.doctor)
    client.cookies["django_language"] = "es"
    page = client.get(reverse("reports:report", args=["sessions"]))
    html = page.content.decode()
    assert "Sesiones por semana" in html
    assert "23 de noviembre de 2026" in html
    assert "23 nov" in html


@FUZZ
@given(
    values=st.dictionaries(
        st.sampled_from(["first_day", "last_day", "office", "doctor"]), HOSTILE, max_size=4
    )
)
def test_it_answers_any_filter_of_a_csv_file_without_a_500(clinic, client, values):
    client.force_login(clinic.doctor)
    for slug in ("messages", "adverse-events"):
        response = client.get(reverse("reports:csv", args=[slug]), values)
        assert response.status_code in (200, 400), values


def test_it_counts_no_visit_still_to_come_as_due(clinic):
    from scheduling.models import Appointment, Kind, Status

    from .conftest import at

    Appointment.objects.create(
        patient=PatientFactory(),
        doctor=clinic.doctor,
        location=clinic.office,
        room=clinic.office.rooms.first(),
        kind=Kind.REVIEW,
        starts_at=at(MONDAY, 10),
        ends_at=at(MONDAY, 10, 15),
        status=Status.BOOKED,
    )
    assert week_row(build("attendance"), MONDAY).values == [0, 0, None, 0, None]
