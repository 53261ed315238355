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


def test_many_entries_at_once_store_what_one_by_one_stores(front_desk):
    # record_many's single INSERT of arrays (PostgreSQL) against record()'s model save.
    from goodskin.actors import Actor
    from goodskin.roles import Role
    from patients import audit, chain
    from patients.models import AuditAction

    actor = Actor(user=front_desk, role=Role.FRONT_DESK, ip="2001:DB8::1")
    ann, bo = PatientFactory.create_batch(2)
    shared = {"query": "smith"}
    rows = [(ann, "patient search", shared), (None, "patient search", {"found": 0})]
    rows += [(bo, "patient search", shared), (bo, "other", None)]
    for patient, subject, details in rows:
        audit.record(
            actor=actor,
            patient=patient,
            action=AuditAction.SEARCH,
            subject=subject,
            details=details,
        )
    audit.record_many(actor=actor, action=AuditAction.SEARCH, entries=rows)
    fields = ("user_id", "role", "patient_id", "action", "subject", "ip", "details")
    written = list(AuditEntry.objects.order_by("id").values_list(*fields))
    assert written[:4] == written[4:]
    assert written[0] == (
        front_desk.pk,
        "front_desk",
        ann.pk,
        "search",
        "patient search",
        "2001:db8::1",
        shared,
    )
    assert chain.verify().whole
