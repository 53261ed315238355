"""The clinic page's numbers are the defaults, an administrator can change them, and the region
list and the leg diagram agree."""

from decimal import Decimal

import pytest

from treatments import diagram, regions
from treatments.selectors import get_clinic_settings


def test_it_starts_with_the_clinic_pages_numbers(db):
    clinic = get_clinic_settings()
    assert (clinic.sessions_min, clinic.sessions_default, clinic.sessions_max) == (2, 4, 6)
    assert clinic.interval_weeks == 4
    assert clinic.hose_days == 14
    assert (clinic.session_minutes_min, clinic.session_minutes_max) == (15, 25)
    assert clinic.foam_max_ml == Decimal(10)
    assert clinic.touch_up_months == 12


def test_it_keeps_one_settings_row(db):
    assert get_clinic_settings().pk == get_clinic_settings().pk


@pytest.mark.parametrize(("areas", "minutes"), [(1, 15), (3, 19), (6, 25), (30, 25)])
def test_it_derives_the_session_length_from_the_areas(db, areas, minutes):
    assert get_clinic_settings().session_minutes(areas) == minutes


@pytest.mark.parametrize(("areas", "sessions"), [(1, 2), (3, 2), (4, 4), (8, 4), (9, 6), (20, 6)])
def test_it_suggests_two_four_or_six_sessions_by_area(db, areas, sessions):
    assert get_clinic_settings().suggested_sessions(areas) == sessions


def test_it_lets_an_administrator_change_the_settings(client, clinic_admin):
    clinic = get_clinic_settings()
    client.force_login(clinic_admin)
    url = f"/admin/treatments/clinicsettings/{clinic.pk}/change/"
    assert client.get(url).status_code == 200
    data = {
        "sessions_min": 2,
        "sessions_default": 4,
        "sessions_max": 8,
        "small_plan_max_areas": 3,
        "large_plan_min_areas": 9,
        "interval_weeks": 6,
        "hose_days": 21,
        "touch_up_months": 18,
        "session_minutes_min": 15,
        "session_minutes_max": 30,
        "minutes_per_extra_area": 2,
        "foam_max_ml": "10",
        "injection_ml_min": "0.1",
        "injection_ml_max": "0.25",
        "warning_signs": "Call us.",
        "rest_days": 4,
        "walk_minutes_min": 10,
        "walk_minutes_max": 25,
        "normal_activity_hours": 24,
        "aftercare_hour": 10,
    }
    assert client.post(url, data).status_code == 302
    clinic.refresh_from_db()
    assert (clinic.sessions_max, clinic.interval_weeks, clinic.hose_days) == (8, 6, 21)
    assert (clinic.rest_days, clinic.walk_minutes_max, clinic.aftercare_hour) == (4, 25, 10)
    assert clinic.injection_ml_max == Decimal("0.25")


def test_it_lists_fifteen_areas_per_leg_with_stable_keys():
    assert len(regions.REGIONS) == 30
    assert {"L-thigh-anterior", "R-knee-popliteal", "L-foot", "R-ankle-lateral"} <= set(
        regions.BY_KEY
    )
    assert str(regions.BY_KEY["R-knee-popliteal"].label) == "Right popliteal fossa (back of knee)"


def test_it_draws_every_area_exactly_once_on_front_or_back():
    drawn = [shape.key for view in diagram.build() for shape in view.shapes]
    assert sorted(drawn) == sorted(regions.BY_KEY)
    back = {s.key for s in diagram.build()[1].shapes}
    assert back == {
        f"{leg}-{p}"
        for leg in "LR"
        for p in ("thigh-posterior", "knee-popliteal", "calf-posterior")
    }


def test_it_shades_areas_by_number_of_treatments():
    shapes = {s.key: s for v in diagram.build(counts={"L-foot": 2}) for s in v.shapes}
    assert shapes["L-foot"].fill == diagram.SHADES[2]
    assert shapes["R-foot"].fill == diagram.SHADES[0]
