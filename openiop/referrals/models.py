"""From first contact to a signed consent: referrals, screenings,
level-of-care recommendations and consents (42 CFR Part 2 included).

A referral is not yet a patient: the Patient record (intake.Patient) is made
at enrollment, and the referral then points at it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openiop.referrals import level_of_care as loc


class Status(models.TextChoices):
    NEW = "new", _("New")
    SCREENING = "screening", _("Screening")
    RECOMMENDED = "recommended", _("Recommended")
    CONSENTED = "consented", _("Consented")
    ENROLLED = "enrolled", _("Enrolled")
    REFERRED_ELSEWHERE = "referred-elsewhere", _("Referred elsewhere")
    DECLINED = "declined", _("Declined")
    NO_RESPONSE = "no-response", _("No response")


OPEN_STATUSES = (Status.NEW, Status.SCREENING, Status.RECOMMENDED, Status.CONSENTED)
CLOSED_STATUSES = (Status.REFERRED_ELSEWHERE, Status.DECLINED, Status.NO_RESPONSE)


class Source(models.TextChoices):
    SELF = "self", _("Self-referral")
    CLINICIAN = "clinician", _("From a clinician")
    STEP_DOWN = "step-down", _("Step-down from residential")
    CHECK_IN = "check-in", _("Asked for help after discharge")


class Attendance(models.TextChoices):
    VIRTUAL = "virtual", _("Virtual")
    IN_PERSON = "in-person", _("In person")
    EITHER = "either", _("Either")


WEEKDAYS = (
    ("mon", _("Monday")),
    ("tue", _("Tuesday")),
    ("wed", _("Wednesday")),
    ("thu", _("Thursday")),
    ("fri", _("Friday")),
)
PARTS_OF_DAY = (("morning", _("Morning")), ("afternoon", _("Afternoon")), ("evening", _("Evening")))
AVAILABILITY_SLOTS = tuple(f"{day}-{part}" for day, _d in WEEKDAYS for part, _p in PARTS_OF_DAY)


class Referral(models.Model):
    program = models.ForeignKey("accounts.Program", on_delete=models.PROTECT, related_name="referrals")
    reference = models.CharField(_("reference number"), max_length=12, unique=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    given_name = models.CharField(_("first name"), max_length=100)
    family_name = models.CharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    preferred_language = models.CharField(_("preferred language"), max_length=50, default="English")
    concerns = models.TextField(_("what is going on"), max_length=4000)
    concern_substance_use = models.BooleanField(_("alcohol or drug use"), default=False)
    concern_mental_health = models.BooleanField(_("mood, anxiety or other mental health"), default=False)
    danger_now = models.BooleanField(_("in danger or thinking of ending their life now"), default=False)
    insurance = models.CharField(_("insurance"), max_length=200, blank=True)
    attendance = models.CharField(_("attend"), max_length=10, choices=Attendance.choices, default=Attendance.VIRTUAL)
    availability = models.JSONField(_("hours they could attend"), default=list, blank=True)
    referrer_name = models.CharField(_("referred by"), max_length=200, blank=True)
    residential_discharge_date = models.DateField(_("residential discharge date"), null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A public form's one-time token: a second submit of the same form finds it.
    form_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    consent_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    consent_token_expires_at = models.DateTimeField(null=True, blank=True)
    urgent_since = models.DateTimeField(null=True, blank=True)
    safety_alert = models.ForeignKey(
        "safety.SafetyAlert", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    urgent_acknowledged_at = models.DateTimeField(null=True, blank=True)
    urgent_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    patient = models.OneToOneField(
        "intake.Patient", on_delete=models.PROTECT, null=True, blank=True, related_name="referral"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        # The waiting list's length, oldest and median referral (the dashboard) come from this index alone.
        indexes = [models.Index(fields=["program", "status", "created_at"], name="referral_program_status_made")]

    def __str__(self) -> str:
        return self.reference

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def needs_urgent_attention(self) -> bool:
        return self.urgent_since is not None and self.urgent_acknowledged_at is None

    def days_waiting(self, today: Any = None) -> int:
        today = today or timezone.localdate()
        return max(0, (today - timezone.localdate(self.created_at)).days)

    def next_action(self, *, decision: str | None = None, final_level: str | None = None) -> str:
        """What the intake coordinator does next; `decision` and `final_level`
        are the latest recommendation's (the board annotates them)."""
        if self.needs_urgent_attention:
            return str(_("Call now: said they are in danger"))
        if self.status == Status.RECOMMENDED:
            if decision == "pending":
                return str(_("A clinician confirms or overrides the level of care"))
            if final_level and final_level != loc.IOP:
                return str(
                    _("Help them reach %(level)s, then close as referred elsewhere")
                    % {"level": loc.LEVEL_WORDS[final_level]}
                )
            return str(_("Email the consent forms; follow up until signed"))
        return str(
            {
                Status.NEW: _("Screen"),
                Status.SCREENING: _("Finish the screening"),
                Status.CONSENTED: _("Enroll"),
            }.get(self.status, _("None"))  # type: ignore[call-overload]
        )


class ReferralEvent(models.Model):
    """One move on the board: who moved the referral, from where to where, when."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.referral}: {self.from_status or '-'} -> {self.to_status}"


class Focus(models.TextChoices):
    SUBSTANCE_USE = "substance-use", _("Substance use")
    MENTAL_HEALTH = "mental-health", _("Mental health")
    CO_OCCURRING = "co-occurring", _("Both")


class Screening(models.Model):
    """The structured screening interview, in OpenIOP's own words. Each area
    is rated 0 (no problem) to 4 (severe)."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="screenings")
    # Staff who did the interview; empty when the person answered online themselves.
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    focus = models.CharField(_("main focus"), max_length=20, choices=Focus.choices)
    withdrawal = models.PositiveSmallIntegerField(_("withdrawal risk"))
    biomedical = models.PositiveSmallIntegerField(_("physical health"))
    emotional = models.PositiveSmallIntegerField(_("emotional and behavioral health, including suicide risk"))
    readiness = models.PositiveSmallIntegerField(_("readiness to change"))
    relapse = models.PositiveSmallIntegerField(_("risk of relapse or continued use"))
    environment = models.PositiveSmallIntegerField(_("home and recovery environment"))
    danger_now = models.BooleanField(_("thinking of ending their life now, or in danger now"), default=False)
    hours_per_week = models.PositiveSmallIntegerField(_("hours a week they can attend"))
    days_per_week = models.PositiveSmallIntegerField(_("days a week they can attend"))
    age = models.PositiveSmallIntegerField(_("age"))
    stepping_down = models.BooleanField(_("stepping down from residential or inpatient care"), default=False)
    notes = models.TextField(_("notes"), max_length=4000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(withdrawal__lte=4, biomedical__lte=4, emotional__lte=4, readiness__lte=4)
                & models.Q(relapse__lte=4, environment__lte=4, days_per_week__lte=7, hours_per_week__lte=168),
                name="screening_ratings_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"Screening of {self.referral}"

    def facts(self) -> loc.Facts:
        return loc.Facts(
            age=self.age,
            focus=self.focus,
            withdrawal=self.withdrawal,
            biomedical=self.biomedical,
            emotional=self.emotional,
            readiness=self.readiness,
            relapse=self.relapse,
            environment=self.environment,
            hours_per_week=self.hours_per_week,
            days_per_week=self.days_per_week,
            danger_now=self.danger_now,
            stepping_down=self.stepping_down,
        )


LEVEL_CHOICES = [(level, loc.LEVEL_WORDS[level]) for level in loc.LEVELS]
TRACK_CHOICES = [(track, track) for track in loc.TRACKS]


class Recommendation(models.Model):
    """What the rules advised, and what the clinician decided."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("Waiting for a clinician")
        CONFIRMED = "confirmed", _("Confirmed")
        OVERRIDDEN = "overridden", _("Overridden")
        SUPERSEDED = "superseded", _("Replaced by a later screening")

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="recommendations")
    screening = models.OneToOneField(Screening, on_delete=models.PROTECT, related_name="recommendation")
    rules_version = models.CharField(max_length=20)
    level = models.CharField(max_length=30, choices=LEVEL_CHOICES)
    track = models.CharField(max_length=30, choices=TRACK_CHOICES, blank=True)
    clinical_level = models.CharField(max_length=30, choices=LEVEL_CHOICES)
    dose_shortfall = models.BooleanField(default=False)
    fired = models.JSONField(default=list)
    decision = models.CharField(max_length=20, choices=Decision.choices, default=Decision.PENDING)
    final_level = models.CharField(max_length=30, choices=LEVEL_CHOICES, blank=True)
    final_track = models.CharField(max_length=30, choices=TRACK_CHOICES, blank=True)
    override_reason = models.TextField(max_length=2000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.referral}: {self.level}"

    @property
    def level_words(self) -> str:
        return loc.LEVEL_WORDS[self.level]

    @property
    def final_level_words(self) -> str:
        return loc.LEVEL_WORDS.get(self.final_level, "")


class ConsentKind(models.TextChoices):
    TREATMENT = "treatment", _("Consent to treatment")
    TELEHEALTH = "telehealth", _("Telehealth consent")
    PART2 = "part2", _("Consent to share substance use treatment records (42 CFR Part 2)")
    COUNSELING_NOTES = "counseling-notes", _("Consent to share substance use counseling notes")
    FAMILY_ACCESS = "family-access", _("Family or support person access")


# FHIR Consent.category / scope for each kind (R4).
FHIR_CATEGORY = {
    ConsentKind.TREATMENT: ("http://loinc.org", "59284-0", "Patient Consent"),
    ConsentKind.TELEHEALTH: ("http://loinc.org", "59284-0", "Patient Consent"),
    ConsentKind.PART2: ("http://loinc.org", "64292-6", "Release of information consent"),
    ConsentKind.COUNSELING_NOTES: ("http://loinc.org", "64292-6", "Release of information consent"),
    ConsentKind.FAMILY_ACCESS: ("http://loinc.org", "64292-6", "Release of information consent"),
}
FHIR_SCOPE = {
    ConsentKind.TREATMENT: "treatment",
    ConsentKind.TELEHEALTH: "treatment",
    ConsentKind.PART2: "patient-privacy",
    ConsentKind.COUNSELING_NOTES: "patient-privacy",
    ConsentKind.FAMILY_ACCESS: "patient-privacy",
}


class ConsentDocument(models.Model):
    """A version of a consent's text. A new wording is a new version; signed
    consents keep the version (and a hash of the exact text) they were shown."""

    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    version = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    effective_from = models.DateField(default=timezone.localdate)

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [models.UniqueConstraint(fields=["kind", "version"], name="consent_document_version_once")]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class SignedConsent(models.Model):
    """One signed consent; maps one-to-one to a FHIR Consent (see fhir.py)."""

    class Status(models.TextChoices):
        # FHIR Consent.status values.
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Revoked")
        ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")

    class Expiry(models.TextChoices):
        END_OF_TREATMENT = "end-of-treatment", _("At the end of treatment")
        NONE = "none", _("No expiry date (until revoked)")
        DATE = "date", _("On a date")

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="consents")
    patient = models.ForeignKey(
        "intake.Patient", on_delete=models.PROTECT, null=True, blank=True, related_name="consents"
    )
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="signatures")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    # The signature: typed name, when, from where, and a hash of the exact text shown.
    typed_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField(default=timezone.now)
    client_address = models.CharField(max_length=45, blank=True)
    text_sha256 = models.CharField(max_length=64)
    shown_text = models.TextField()
    # What is shared, by whom, with whom, why, until when (42 CFR Part 2 elements).
    disclosing_party = models.CharField(max_length=200, blank=True)
    recipient = models.CharField(max_length=300, blank=True)
    information = models.CharField(max_length=500, blank=True)
    purpose = models.CharField(max_length=300, blank=True)
    expiry = models.CharField(max_length=20, choices=Expiry.choices, default=Expiry.END_OF_TREATMENT)
    expires_on = models.DateField(null=True, blank=True)
    # Family access: who, and what they may see.
    family_given_name = models.CharField(max_length=100, blank=True)
    family_family_name = models.CharField(max_length=100, blank=True)
    family_email = models.EmailField(blank=True)
    family_relationship = models.CharField(max_length=100, blank=True)
    may_see_family_sessions = models.BooleanField(default=False)
    may_see_progress_summary = models.BooleanField(default=False)
    # Revocation, in writing.
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revocation_reason = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["signed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.document} signed by {self.typed_name}"

    @property
    def kind(self) -> str:
        return self.document.kind


class Part2Recipient(models.Model):
    """One organization a 42 CFR Part 2 consent names as a recipient: an integration of the program
    (fhirapi.ApiClient) offered on the consent form, with its name and purposes as the signed text shows them.
    The FHIR API releases a Part 2 patient only to an integration named here, whose current name still
    matches and whose purposes are all among these (fhirapi/part2.py)."""

    consent = models.ForeignKey(SignedConsent, on_delete=models.PROTECT, related_name="part2_recipients")
    client = models.ForeignKey("fhirapi.ApiClient", on_delete=models.PROTECT, related_name="part2_consents")
    name = models.CharField(max_length=200)
    purposes = models.JSONField(default=list)  # fhirapi.models.Purpose values

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["consent", "client"], name="part2_recipient_once_per_consent")]

    def __str__(self) -> str:
        return f"{self.name} on consent {self.consent_id}"
