"""The patient's own pages. Each takes the patient from the login, never from the URL: an id
that is not theirs answers 404 with nothing of it in the page. The welcome link and the calendar
feed are the two pages without a login; their token is the key."""

from goodskin.roles import Role, role_required
from treatments.selectors import aftercare_advice

patient_only = role_required(Role.PATIENT)


def aftercare_context(plan=None) -> dict:
    """What `portal/_aftercare.html` needs: the steps after a session, with the numbers of
    `plan` (the patient's own hose days and interval) where there is one, and the warning
    signs."""
    advice = aftercare_advice(plan)
    return {"aftercare": advice.steps, "warning_signs": advice.warning_signs}
