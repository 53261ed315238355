"""Plan progress (sessions done and left, next earliest date, per-area counts as a table and a
picture) and the aftercare programme, as doctors see them (the patient's view: tests/portal/)."""

from datetime import timedelta

from django.urls import reverse

from tests.treatments.conftest import two_sessions
from treatments.models import AftercareStep
from treatments.selectors import aftercare_steps, get_clinic_settings, plan_progress


def test_it_counts_sessions_done_and_left_and_the_next_earliest_date(doctor, plan):
    last = two_sessions(plan, doctor)
    progress = plan_progress(plan)
    assert (progress.sessions_done, progress.sessions_left) == (2, 2)
    assert progress.next_earliest == last + timedelta(weeks=4)
    assert progress.sessions_by_area == {"R-thigh-anterior": [1], "L-foot": [1, 2]}


def test_it_shows_per_area_sessions_as_a_table_and_a_shaded_picture(client, doctor, plan):
    two_sessions(plan, doctor)
    client.force_login(doctor)
    html = client.get(reverse("treatments:plan", args=[plan.patient_id, plan.pk])).content.decode()
    assert '<tr data-area="L-foot"><td>Left foot</td><td>1, 2</td></tr>' in html
    assert 'data-region="L-foot" fill="#7cc6bf"' in html
    assert "2 of 4 done, 2 left" in html


def test_the_aftercare_programme_is_seeded_with_the_warning_signs(db):
    steps = aftercare_steps()
    assert [s.step.key for s in steps] == ["checkout", "rest-end", "hose-end", "book-next"]
    assert [s.offset_days for s in steps] == [0, 4, 14, 28]
    checkout = steps[0].email_body
    assert "support hose" in checkout and "Walk" in checkout and "24 hours" in checkout
    assert "Today and for the next 3 days: no hot baths" in checkout
    for message in steps:
        assert "calf" in message.email_body and "chest pain" in message.email_body
        assert "redness that spreads" in message.sms_text


def test_the_aftercare_offsets_follow_the_clinic_settings_and_admin_edits(db):
    clinic = get_clinic_settings()
    clinic.hose_days = 21
    clinic.save()
    AftercareStep.objects.filter(key="rest-end").update(sms_text="New words.")
    by_key = {s.step.key: s for s in aftercare_steps()}
    assert by_key["hose-end"].offset_days == 21
    assert by_key["rest-end"].sms_text.startswith("New words.")


def test_the_patient_record_links_to_the_treatment_page(client, front_desk, record):
    client.force_login(front_desk)
    html = client.get(reverse("patients:detail", args=[record.pk])).content.decode()
    assert reverse("treatments:patient", args=[record.pk]) in html
