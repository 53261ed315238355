"""Issue 17, point 2, for the series: its proposal takes the same morning/afternoon choice as
the free-time search, and the page offers it."""

from django.urls import reverse

from scheduling import services
from tests.factories import PatientFactory, screen
from tests.treatments.conftest import make_plan


def plan_for(doctor):
    patient = PatientFactory()
    screen(patient, sclerosant_allergy="no", untreated_varicose="no")
    return make_plan(patient, doctor, sessions=4)


def local_hours(proposals, tz) -> list[int]:
    return [p.starts_at.astimezone(tz).hour for p in proposals]


def test_the_series_is_proposed_in_the_afternoons_when_asked(now, hours, doctor):
    from tests.scheduling.conftest import TZ

    plan = plan_for(doctor)
    anytime = services.propose_series(plan=plan)
    afternoons = services.propose_series(plan=plan, part="afternoon")
    assert local_hours(anytime, TZ) == [8, 8, 8, 8]
    assert local_hours(afternoons, TZ) == [12, 12, 12, 12]
    # The weeks between sessions are kept whatever the time of day.
    days = [p.starts_at.date() for p in afternoons]
    assert all((b - a).days >= 28 for a, b in zip(days, days[1:], strict=False))


def test_the_series_page_proposes_afternoons_and_refuses_nonsense_quietly(
    client, now, hours, doctor, front_desk
):
    plan = plan_for(doctor)
    client.force_login(front_desk)
    url = reverse("scheduling:book_series", args=[plan.pk])
    page = client.get(url, {"part": "afternoon"})
    assert page.status_code == 200
    assert 'value="12:00"' in page.content.decode()
    assert 'name="part"' in page.content.decode()
    for nonsense in ("evening", "²", "x" * 500):
        assert client.get(url, {"part": nonsense}).status_code == 200
