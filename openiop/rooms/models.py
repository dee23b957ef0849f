"""A room per session: who is waiting or admitted, the safety check, presence and attendance.

Presence events are the raw facts (who joined and left when); Attendance is what they add up to for a
patient, with a status a clinician may correct (the correction and its reason are kept and audited)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MediaMode(models.TextChoices):
    MESH = "mesh", _("Peer-to-peer")
    SFU = "sfu", _("Group video server (Janus)")


class Room(models.Model):
    """The virtual room of one session. Janus credentials only for SFU rooms."""

    session = models.OneToOneField("scheduling.Session", on_delete=models.PROTECT, related_name="room")
    media = models.CharField(_("media"), max_length=10, choices=MediaMode.choices)
    janus_room = models.PositiveBigIntegerField(null=True, blank=True, unique=True)
    janus_secret = models.CharField(max_length=64, blank=True)
    janus_pin = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"room of session {self.session_id}"


class ParticipantState(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    ADMITTED = "admitted", _("Admitted")
    REMOVED = "removed", _("Removed")


class Participant(models.Model):
    """One person's place in a room: waiting, admitted or removed, and their live connection if any."""

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="room_places")
    patient = models.ForeignKey(
        "intake.Patient", on_delete=models.PROTECT, null=True, blank=True, related_name="room_places"
    )
    state = models.CharField(max_length=10, choices=ParticipantState.choices, default=ParticipantState.WAITING)
    # The Channels channel of the person's current connection ("" when not connected).
    channel_name = models.CharField(max_length=200, blank=True)
    admitted_at = models.DateTimeField(null=True, blank=True)
    # Set while the person is in the call (admitted and connected): who a newcomer must call.
    in_room_since = models.DateTimeField(null=True, blank=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="one_place_per_person_per_room")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.room_id} ({self.state})"


class SafetyCheck(models.Model):
    """Where the patient is for this session, how to call them back, and that the place is private."""

    session = models.ForeignKey("scheduling.Session", on_delete=models.PROTECT, related_name="safety_checks")
    patient = models.ForeignKey("intake.Patient", on_delete=models.PROTECT, related_name="safety_checks")
    at_home = models.BooleanField(_("at my home address"), default=False)
    location = models.CharField(_("where you are"), max_length=300, blank=True)
    callback_phone = models.CharField(_("call-back phone"), max_length=40)
    private_place = models.BooleanField(_("I am in a private place"))
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "patient"], name="one_safety_check_per_session")]

    def __str__(self) -> str:
        return f"safety check {self.patient_id} at {self.session_id}"


class PresenceEvent(models.Model):
    class Kind(models.TextChoices):
        JOIN = "join", _("Joined")
        LEAVE = "leave", _("Left")

    session = models.ForeignKey("scheduling.Session", on_delete=models.PROTECT, related_name="presence_events")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("intake.Patient", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["session", "user", "at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.at:%H:%M:%S}"


class AttendanceStatus(models.TextChoices):
    ATTENDED = "attended", _("Attended")
    PARTIAL = "partial", _("Partial")
    LATE = "late", _("Late")
    ABSENT = "absent", _("Absent")
    ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")


class Attendance(models.Model):
    """A patient's attendance at a session, computed from presence; a clinician may correct it."""

    session = models.ForeignKey("scheduling.Session", on_delete=models.PROTECT, related_name="attendance")
    patient = models.ForeignKey("intake.Patient", on_delete=models.PROTECT, related_name="attendance")
    seconds_present = models.PositiveIntegerField(_("seconds present"), default=0)
    first_joined_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=AttendanceStatus.choices)
    computed_status = models.CharField(max_length=20, choices=AttendanceStatus.choices)
    computed_seconds = models.PositiveIntegerField(default=0)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    correction_reason = models.CharField(_("reason for the correction"), max_length=500, blank=True)
    corrected_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["session_id", "patient_id"]
        constraints = [models.UniqueConstraint(fields=["session", "patient"], name="one_attendance_per_session")]
        # The weekly dose and the track-filtered attendance rate read this index alone.
        indexes = [
            models.Index(fields=["session", "status", "patient", "seconds_present"], name="attendance_session_status")
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} at {self.session_id}: {self.status}"

    @property
    def minutes(self) -> int:
        return round(self.seconds_present / 60)


class AttendanceTally(models.Model):
    """Attendance counted per program and session start time: `expected` rows (all but entered-in-error) and
    `present` ones (attended, late or partial). Sessions share their start times, so a week has a few of
    these however many patients the program has; the dashboard's attendance rate reads them instead of every
    attendance of the period.

    Kept by database triggers (migration 0002_attendance_tally), which run inside the same transaction as
    every insert, update or delete of an Attendance and every change of a Session's start or program,
    whoever makes it (services, bulk_create, the admin, raw SQL). No Python code writes these rows."""

    program = models.ForeignKey("accounts.Program", on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    present = models.IntegerField(default=0)
    expected = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "starts_at"], name="one_tally_per_start")]

    def __str__(self) -> str:
        return f"{self.program_id} {self.starts_at:%Y-%m-%d %H:%M}: {self.present}/{self.expected}"
