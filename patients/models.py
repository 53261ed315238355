"""The patient record, its screening answers, portal invitations and the audit trail."""

import unicodedata
from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from goodskin import when

from .screening import QUESTIONS, Answer

# Letters that Unicode does not decompose into a base letter and an accent.
LETTERS = str.maketrans(
    {
        "ø": "o",
        "Ø": "o",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ß": "ss",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "þ": "th",
    }
)


def fold(text: str) -> str:
    """Lower case without accents or extra spaces: how names are compared and searched."""
    decomposed = unicodedata.normalize("NFKD", (text or "").translate(LETTERS))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other / intersex")
    UNKNOWN = "unknown", _("Prefer not to say")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message (SMS)")


class Purpose(models.TextChoices):
    """The kinds of message a patient chooses one by one (besides the channel). What each
    kind of message counts as is its owner's to say (`messaging.kinds`)."""

    REMINDERS = "reminders", _("Appointment reminders")
    AFTERCARE = "aftercare", _("Aftercare advice")


# The patient's field that holds each consent.
CHANNEL_CONSENTS = {Channel.EMAIL: "consent_email", Channel.SMS: "consent_sms"}
PURPOSE_CONSENTS = {Purpose.REMINDERS: "consent_reminders", Purpose.AFTERCARE: "consent_aftercare"}


class PatientQuerySet(models.QuerySet):
    def active(self):
        return self.filter(merged_into__isnull=True)


class Patient(models.Model):
    legal_first_name = models.CharField(_("legal first name"), max_length=100)
    legal_last_name = models.CharField(_("legal last name"), max_length=100)
    preferred_name = models.CharField(_("preferred name"), max_length=100, blank=True)
    date_of_birth = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)

    phone = PhoneNumberField(_("mobile phone"), blank=True)
    email = models.EmailField(_("email"), blank=True)
    address_line1 = models.CharField(_("address"), max_length=200, blank=True)
    address_line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=50, blank=True, default="OR")
    postal_code = models.CharField(_("ZIP code"), max_length=20, blank=True)

    emergency_contact_name = models.CharField(_("emergency contact"), max_length=200, blank=True)
    emergency_contact_relation = models.CharField(_("relation"), max_length=100, blank=True)
    emergency_contact_phone = PhoneNumberField(_("emergency contact phone"), blank=True)

    reminder_channel = models.CharField(
        _("preferred reminder channel"),
        max_length=10,
        choices=Channel.choices,
        default=Channel.EMAIL,
    )
    # Every message to the patient, and the portal once they log in, is in this language.
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default="en",
        help_text=_("The language of the patient's messages and patient pages."),
    )
    # Each consent keeps the date it was last given or withdrawn; the audit keeps every change.
    consent_email = models.BooleanField(_("agrees to email reminders"), default=False)
    consent_email_on = models.DateField(_("email consent given or withdrawn on"), null=True)
    consent_sms = models.BooleanField(_("agrees to text message reminders"), default=False)
    consent_sms_on = models.DateField(_("SMS consent given or withdrawn on"), null=True)
    # Which kinds of message, on whichever channel the patient agreed to. Both on unless the
    # patient turns one off: agreeing to a channel used to mean both.
    consent_reminders = models.BooleanField(_("wants appointment reminders"), default=True)
    consent_reminders_on = models.DateField(_("reminder choice made on"), null=True)
    consent_aftercare = models.BooleanField(
        _("wants aftercare advice after each session"), default=True
    )
    consent_aftercare_on = models.DateField(_("aftercare choice made on"), null=True)
    consent_photos = models.BooleanField(_("agrees to clinical photos"), default=False)
    consent_photos_on = models.DateField(_("photo consent given or withdrawn on"), null=True)

    portal_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="patient",
        verbose_name=_("portal account"),
    )
    notes = models.TextField(_("notes"), blank=True)
    # When the front desk last went through the screening with the patient (a re-screen at
    # check-in); answers unchanged since are as current as this.
    screening_confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    screening_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    # Folded "first last preferred" for search; a trigram index on PostgreSQL serves it.
    search_name = models.CharField(max_length=320, editable=False)
    # Bumped on every save: two people editing the same record can't overwrite each other.
    version = models.PositiveIntegerField(default=1, editable=False)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_records"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # The registration form's token: a double click on "Register" saves one patient.
    form_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["legal_last_name", "legal_first_name", "id"]
        indexes = [
            # Search by date of birth, and the duplicate check on registration.
            models.Index(fields=["date_of_birth"], name="patient_dob_idx"),
            # Search and duplicate check by phone (stored E.164) and by email.
            models.Index(fields=["phone"], name="patient_phone_idx"),
            models.Index(fields=["email"], name="patient_email_idx"),
            # The patient list, sorted by name.
            models.Index(fields=["legal_last_name", "legal_first_name"], name="patient_name_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(legal_first_name="") & ~models.Q(legal_last_name=""),
                name="patient_has_a_name",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs):
        self.search_name = fold(
            f"{self.legal_first_name} {self.legal_last_name} {self.preferred_name}"
        )
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.legal_first_name} {self.legal_last_name}"

    @property
    def display_name(self) -> str:
        """The name to greet and list by: preferred first name where given."""
        if self.preferred_name:
            return f"{self.preferred_name} {self.legal_last_name} ({self.legal_first_name})"
        return self.full_name

    def accepts(self, channel: str) -> bool:
        """The patient agreed to messages on this channel."""
        return bool(getattr(self, CHANNEL_CONSENTS.get(channel, ""), False))

    def wants(self, purpose: str) -> bool:
        """The patient wants this kind of message (on the channels they agreed to)."""
        return bool(getattr(self, PURPOSE_CONSENTS.get(purpose, ""), False))

    def contact(self, channel: str) -> str:
        """The address or number messages on `channel` go to ("" if there is none)."""
        return {Channel.EMAIL: self.email, Channel.SMS: str(self.phone or "")}.get(channel, "")

    def age(self, on: date | None = None) -> int:
        on = on or timezone.localdate()
        dob = self.date_of_birth
        return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


class NameWord(models.Model):
    """One word of the active patients' folded names (search_name) and how many active
    patients have it: the small table the typo-forgiving search matches first (tens of
    thousands of words against 100,000 names), then the patients with the close words through
    an index. Kept by PostgreSQL triggers (migration 0010), whatever writes the patients
    (services, bulk seeding, merges, deletes); empty on SQLite, which has no typo search."""

    word = models.CharField(max_length=320, primary_key=True)
    patients = models.IntegerField()

    class Meta:
        # The trigram index on `word` is PostgreSQL's only (migration 0010), like the names'.
        verbose_name = _("name word")

    def __str__(self) -> str:
        return f"{self.word} ({self.patients})"


class ListedWord(models.Model):
    """One word of one active patient's folded name, with that patient's place in the list
    (lower last name, lower first name, id): the name search reads the first patients of each
    word in list order instead of every patient with it, so a common name costs as little as a
    rare one (issue 19). Kept by PostgreSQL triggers (migration 0013), as NameWord is; empty
    on SQLite, which searches its few names directly."""

    word = models.CharField(max_length=320)
    last_key = models.TextField()
    first_key = models.TextField()
    patient_id = models.BigIntegerField()
    # The whole folded name: the query's other parts are checked here, not on the patient.
    search_name = models.CharField(max_length=320)

    class Meta:
        # The name search's index (a word's names in list order, the name included so that no
        # row is read to check it) is PostgreSQL's only (migration 0013): SQLite can't include.
        indexes = [
            # The triggers: a renamed, merged or deleted patient's words.
            models.Index(fields=["patient_id"], name="listed_word_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.word}: {self.patient_id}"


class ScreeningAnswer(models.Model):
    """The current answer to one screening question; earlier answers are ScreeningChanges."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="screening")
    question = models.CharField(max_length=40, choices=[(q.key, q.label) for q in QUESTIONS])
    answer = models.CharField(max_length=10, choices=Answer.choices, default=Answer.UNKNOWN)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # The patient's own answers from the portal (patients.services.record_patient_screening)
    # wait for a doctor's review at consultation. A "yes" counts at once (it can only stop a
    # treatment): the answer is the patient's, and `from_patient` says it is unreviewed. Any
    # other change waits in `patient_answer`/`patient_note` while the clinic's answer stays.
    from_patient = models.BooleanField(default=False)
    patient_answer = models.CharField(max_length=10, choices=Answer.choices, blank=True)
    patient_note = models.CharField(max_length=300, blank=True)
    patient_answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "question"], name="one_answer_per_question")
        ]

    def __str__(self) -> str:
        return f"{self.question}: {self.answer}"


class ScreeningChange(models.Model):
    """An answer as it was before someone changed it: who changed it, when, from what to what."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    question = models.CharField(max_length=40, choices=[(q.key, q.label) for q in QUESTIONS])
    old_answer = models.CharField(max_length=10, choices=Answer.choices, blank=True)
    old_note = models.CharField(max_length=300, blank=True)
    new_answer = models.CharField(max_length=10, choices=Answer.choices)
    new_note = models.CharField(max_length=300, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            # The screening history of one patient, newest first.
            models.Index(fields=["patient", "-changed_at"], name="screening_change_patient_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.question}: {self.old_answer or '-'} -> {self.new_answer}"


class PortalInvitation(models.Model):
    """A one-time link that lets a patient set a password and open their portal account."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    # Only a hash of the token is stored: a database reader can't use a pending link.
    token_hash = models.CharField(max_length=64, unique=True)
    sent_at = models.DateTimeField(default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    # The token of the page's "send" button: a double click sends one invitation.
    form_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"invitation to {self.email}"

    def is_usable(self, now=None) -> bool:
        return self.accepted_at is None and (now or timezone.now()) < self.expires_at


class AuditAction(models.TextChoices):
    VIEW = "view", _("viewed")
    CREATE = "create", _("created")
    CHANGE = "change", _("changed")
    MERGE = "merge", _("merged")
    EXPORT = "export", _("exported")
    INVITE = "invite", _("invited to the portal")
    DELETE = "delete", _("deleted")
    SEARCH = "search", _("found in a search")
    # A login's own security: two-step login turned on or off, reset, a recovery code used.
    SECURITY = "security", _("changed login security")


class AuditEntry(models.Model):
    """Who did what to which patient's data, when and from where. Written by services and access
    helpers, never edited. Other apps write theirs through patients.audit.record.

    On PostgreSQL the entries form a hash chain (migration 0005, patients/chain.py): a trigger
    numbers each new entry (`seq`) and hashes it with the one before; another refuses UPDATE,
    DELETE and TRUNCATE. A field added here must be added to the hash function too."""

    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    role = models.CharField(max_length=20, blank=True)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, related_name="audit_entries"
    )
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    # What was touched, e.g. "patient", "screening", "plan:12".
    subject = models.CharField(max_length=60, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # Filled by the database's trigger, never by the app (empty on SQLite).
    seq = models.BigIntegerField(null=True, unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = _("audit entries")
        indexes = [
            # An administrator's list of one patient's audit trail, newest first.
            models.Index(fields=["patient", "-at"], name="audit_patient_at_idx"),
            # The record page's "changed lately": a patient's changes alone. Through the index
            # above it read every view of the record ever audited to find them (6 to 22 ms
            # for a record opened 2,400 times; bench/load.py, "patient record").
            models.Index(
                fields=["patient", "-at"],
                condition=models.Q(action=AuditAction.CHANGE),
                name="audit_patient_change_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{when.day_and_time(self.at)} {self.user} {self.action} {self.subject}"
