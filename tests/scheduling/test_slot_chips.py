"""The free-time page's buttons, written in Python (scheduling/slot_chips.py): the booking link
with the kind, doctor, day, time and office chosen, and every name escaped."""

from django.urls import reverse

from tests.factories import PatientFactory, UserFactory
from tests.scheduling.conftest import work_weekdays


def test_each_button_books_its_time_for_the_patient_with_names_escaped(
    client, now, hours, front_desk
):
    doctor = UserFactory(username="dr.x", role="doctor", first_name="<b>Ann", last_name="O'Neil")
    work_weekdays(doctor, hours)
    patient = PatientFactory()
    client.force_login(front_desk)
    html = client.get(
        reverse("scheduling:slots"),
        {"kind": "consultation", "patient": patient.pk, "doctor": doctor.pk},
    ).content.decode()
    book = reverse("scheduling:book", args=[patient.pk])
    link = (
        f"{book}?kind=consultation&amp;doctor={doctor.pk}&amp;date=2026-11-30"
        f"&amp;time=08%3A00&amp;location={hours.pk}"
    )
    assert f'href="{link}"' in html
    # The link opens the booking form with that time chosen.
    form = client.get(link.replace("&amp;", "&")).context["form"]
    assert (str(form["date"].value()), str(form["time"].value())[:5]) == ("2026-11-30", "08:00")
    assert "&lt;b&gt;Ann O&#x27;Neil" in html and "<b>Ann" not in html
    assert "Book Mon Nov 30, &lt;b&gt;Ann" in html


def test_without_a_patient_each_time_is_shown_not_linked(client, now, hours, front_desk, doctor):
    client.force_login(front_desk)
    html = client.get(reverse("scheduling:slots"), {"kind": "consultation"}).content.decode()
    assert '<span class="badge text-bg-light border gs-slot">8:00 AM</span>' in html


def test_each_day_is_written_in_the_readers_language_with_its_rest_behind_more(
    client, now, hours, front_desk, doctor
):
    from django.utils import translation

    client.force_login(front_desk)
    with translation.override("es"):
        response = client.get(
            reverse("scheduling:slots"), {"kind": "consultation"}, HTTP_ACCEPT_LANGUAGE="es"
        )
    html = response.content.decode()
    day, count, rows = response.context["by_doctor"][0]
    [row] = rows
    assert f'<span class="badge text-bg-light">{count}</span>' in html
    assert f"{len(row.more)} más</summary>" in html
    assert "lunes, 30 de noviembre de 2026" in html
    assert html.count('<span class="badge text-bg-light border gs-slot">') == count + sum(
        len(r.shown) + len(r.more) for _d, _n, rs in response.context["by_doctor"][1:] for r in rs
    )
