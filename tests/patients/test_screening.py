from django.urls import reverse

from patients.models import ScreeningAnswer, ScreeningChange
from patients.screening import QUESTIONS
from tests.factories import PatientFactory, screen


def all_answers(**yes) -> dict:
    data = {q.key: "no" for q in QUESTIONS}
    data.update(yes)
    return data


def test_it_records_every_answer_with_who_and_when(client, front_desk):
    patient = PatientFactory()
    client.force_login(front_desk)
    response = client.post(
        reverse("patients:screening", args=[patient.pk]),
        {**all_answers(estrogen="yes"), "estrogen__note": "HRT since 2020"},
    )
    assert response.status_code == 302
    answer = ScreeningAnswer.objects.get(patient=patient, question="estrogen")
    assert (answer.answer, answer.note, answer.recorded_by) == ("yes", "HRT since 2020", front_desk)
    assert ScreeningAnswer.objects.filter(patient=patient).count() == len(QUESTIONS)


def test_it_refuses_an_answer_that_is_not_yes_no_or_unknown(client, front_desk):
    patient = PatientFactory()
    client.force_login(front_desk)
    response = client.post(
        reverse("patients:screening", args=[patient.pk]), all_answers(estrogen="maybe")
    )
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert not ScreeningAnswer.objects.filter(patient=patient).exists()


def test_it_keeps_the_earlier_answer_when_one_changes(client, doctor):
    patient = PatientFactory()
    screen(patient, estrogen="no")
    client.force_login(doctor)
    client.post(reverse("patients:screening", args=[patient.pk]), all_answers(estrogen="yes"))
    change = ScreeningChange.objects.filter(patient=patient, question="estrogen").first()
    assert (change.old_answer, change.new_answer, change.changed_by) == ("no", "yes", doctor)
    history = client.get(reverse("patients:screening_history", args=[patient.pk]))
    assert "Takes estrogen, the contraceptive pill or HRT" in history.content.decode()


def test_it_shows_the_history_to_doctors_only(client, front_desk):
    patient = PatientFactory()
    client.force_login(front_desk)
    response = client.get(reverse("patients:screening_history", args=[patient.pk]))
    assert response.status_code == 403


def test_it_shows_what_matters_at_the_top_of_the_patient_page(client, doctor):
    patient = PatientFactory()
    screen(patient, sclerosant_allergy="yes", untreated_varicose="yes", estrogen="yes")
    client.force_login(doctor)
    body = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    top = body.split("<h2")[0]
    assert "alert-danger" in top and "Allergy to a sclerosing agent" in top
    assert "Untreated varicose veins: treat them first" in top
    assert "blush" in top


def test_it_shows_no_warning_for_a_clear_screening(client, doctor):
    patient = PatientFactory()
    screen(patient, **{q.key: "no" for q in QUESTIONS})
    client.force_login(doctor)
    body = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "alert-danger" not in body and "alert-warning" not in body


# --- Issue 17, point 5: a screening form that fits a laptop, with "no to the rest" -----------


def test_no_to_the_rest_fills_in_no_on_the_page_and_saves_nothing(client, front_desk):
    patient = PatientFactory()
    client.force_login(front_desk)
    url = reverse("patients:screening", args=[patient.pk])
    data = {"infection": "yes", "infection__note": "12 weeks", "all_no": "1"}
    response = client.post(url, data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form["infection"].value() == "yes" and form["infection__note"].value() == "12 weeks"
    assert all(form[q.key].value() == "no" for q in QUESTIONS if q.key != "infection")
    assert "now says “no”" in response.content.decode()
    assert not ScreeningAnswer.objects.exists()  # nothing saved until Save
    # Saved as shown.
    saved = {k: v for k, v in form.data.items() if k != "all_no"}
    assert client.post(url, saved).status_code == 302
    assert (
        ScreeningAnswer.objects.filter(patient=patient, answer="no").count() == len(QUESTIONS) - 1
    )


def test_a_yes_is_highlighted_on_the_form(client, doctor):
    patient = PatientFactory()
    screen(patient, infection="yes", estrogen="yes")
    client.force_login(doctor)
    html = client.get(reverse("patients:screening", args=[patient.pk])).content.decode()
    assert html.count("data-attention") == 2
    assert "bg-danger-subtle" in html and "bg-warning-subtle" in html
