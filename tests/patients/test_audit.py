from django.urls import reverse

from patients.models import AuditEntry, Patient
from tests.factories import PatientFactory
from tests.patients.test_records import VALID


def last_entry() -> AuditEntry:
    return AuditEntry.objects.order_by("-id").first()


def test_it_audits_a_view_with_user_role_patient_time_and_address(client, doctor):
    patient = PatientFactory()
    client.force_login(doctor)
    client.get(reverse("patients:detail", args=[patient.pk]), REMOTE_ADDR="10.1.2.3")
    entry = last_entry()
    assert (entry.user, entry.role, entry.patient, entry.action) == (
        doctor,
        "doctor",
        patient,
        "view",
    )
    assert entry.ip == "10.1.2.3"
    assert entry.at.tzinfo is not None


def test_it_audits_create_change_and_export(client, front_desk):
    client.force_login(front_desk)
    client.post(reverse("patients:create"), VALID)
    patient = Patient.objects.get()
    assert AuditEntry.objects.filter(patient=patient, action="create").exists()
    response = client.get(reverse("patients:export", args=[patient.pk]))
    assert response["Content-Type"] == "application/json"
    assert response.json()["demographics"]["legal_last_name"] == "Álvarez"
    assert AuditEntry.objects.filter(patient=patient, action="export").exists()


def test_it_does_not_copy_free_text_notes_into_the_audit(client, front_desk):
    patient = PatientFactory()
    client.force_login(front_desk)
    form = client.get(reverse("patients:edit", args=[patient.pk])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(phone=str(patient.phone), notes="private clinical remark")
    data.pop("emergency_contact_phone", None)
    client.post(reverse("patients:edit", args=[patient.pk]), data)
    entry = AuditEntry.objects.get(action="change")
    assert "private clinical remark" not in str(entry.details)
    assert "notes" in entry.details["fields"]


def test_it_lets_an_administrator_list_a_patients_audit_trail(client, clinic_admin, doctor):
    patient, other = PatientFactory(), PatientFactory()
    client.force_login(doctor)
    client.get(reverse("patients:detail", args=[patient.pk]))
    client.get(reverse("patients:detail", args=[other.pk]))
    client.force_login(clinic_admin)
    response = client.get("/admin/patients/auditentry/", {"patient__id__exact": patient.pk})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_it_keeps_the_audit_trail_from_staff(client, doctor):
    client.force_login(doctor)
    response = client.get("/admin/patients/auditentry/")
    assert response.status_code == 302
