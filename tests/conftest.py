"""Named people in two programs, used across the suite.

Harborview (program A):
  dora   director           ivan  intake coordinator
  carla  clinician: Pat is on her caseload
  cole   clinician: facilitates the group Quinn is in (Quinn is on nobody's caseload but his group)
  pat    patient, active      quinn patient, active     rae  referred, planned start (intake's)
  fay    family member of Pat (sees family sessions, not progress)
Elsewhere (program B):
  otto   director            oscar clinician           olga patient (on Oscar's caseload)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.accounts.models import STAFF_ROLES, BreakGlassGrant, Program, Role, User
from openiop.intake.models import CareTeamMember, Enrollment, EnrollmentStatus, FamilyAccess, Patient
from openiop.scheduling.models import Focus, GroupMembership, Population, TherapyGroup, Track

PASSWORD = "correct-horse-battery-staple"
_PASSWORD_HASH = make_password(PASSWORD)  # argon2, computed once for the whole run


@dataclass
class World:
    harborview: Program
    elsewhere: Program
    dora: User
    ivan: User
    carla: User
    cole: User
    fay: User
    otto: User
    oscar: User
    pat: Patient
    quinn: Patient
    rae: Patient
    olga: Patient
    pat_user: User
    quinn_user: User
    olga_user: User
    group: TherapyGroup
    track: Track
    grant_here: BreakGlassGrant
    grant_elsewhere: BreakGlassGrant

    def person(self, role: str) -> User:
        return {
            "director": self.dora,
            "intake": self.ivan,
            "clinician": self.carla,
            "patient": self.pat_user,
            "family": self.fay,
        }[role]


def make_user(username: str, role: Role, program: Program | None, **extra: object) -> User:
    return User.objects.create(
        username=username,
        first_name=username.capitalize(),
        last_name="Testperson",
        email=f"{username}@example.org",
        role=role,
        program=program,
        password=_PASSWORD_HASH,
        **extra,
    )


def make_patient(program: Program, number: str, user: User | None, given: str) -> Patient:
    return Patient.objects.create(
        program=program,
        record_number=number,
        given_name=given,
        family_name="Example",
        date_of_birth=date(1990, 5, 17),
        user=user,
    )


def enroll(patient: Patient, track: Track, status: str = EnrollmentStatus.ACTIVE) -> Enrollment:
    start = timezone.localdate() - timedelta(weeks=3)
    return Enrollment.objects.create(
        patient=patient, track=track, status=status, start_date=start, planned_end_date=start + timedelta(weeks=10)
    )


@pytest.fixture
def world(db: None) -> World:
    harborview = Program.objects.create(name="Harborview", slug="harborview-test")
    elsewhere = Program.objects.create(name="Elsewhere", slug="elsewhere-test")
    track = Track.objects.create(
        program=harborview, name="Adult SU evenings", slug="su", population=Population.ADULT, focus=Focus.SUBSTANCE_USE
    )
    track_b = Track.objects.create(
        program=elsewhere, name="Adult MH", slug="mh", population=Population.ADULT, focus=Focus.MENTAL_HEALTH
    )
    dora = make_user("dora", Role.DIRECTOR, harborview)
    ivan = make_user("ivan", Role.INTAKE, harborview)
    carla = make_user("carla", Role.CLINICIAN, harborview)
    cole = make_user("cole", Role.CLINICIAN, harborview)
    fay = make_user("fay", Role.FAMILY, harborview)
    otto = make_user("otto", Role.DIRECTOR, elsewhere)
    oscar = make_user("oscar", Role.CLINICIAN, elsewhere)
    pat_user = make_user("pat", Role.PATIENT, harborview)
    quinn_user = make_user("quinn", Role.PATIENT, harborview)
    olga_user = make_user("olga", Role.PATIENT, elsewhere)

    pat = make_patient(harborview, "H-1", pat_user, "Pat")
    quinn = make_patient(harborview, "H-2", quinn_user, "Quinn")
    rae = make_patient(harborview, "H-3", None, "Rae")
    olga = make_patient(elsewhere, "E-1", olga_user, "Olga")
    enroll(pat, track)
    enroll(quinn, track)
    enroll(rae, track, EnrollmentStatus.PLANNED)
    enroll(olga, track_b)
    CareTeamMember.objects.create(patient=pat, clinician=carla, is_primary=True)
    CareTeamMember.objects.create(patient=olga, clinician=oscar, is_primary=True)
    group = TherapyGroup.objects.create(track=track, name="Relapse prevention A")
    group.facilitators.add(cole)
    GroupMembership.objects.create(group=group, patient=quinn, start_date=timezone.localdate() - timedelta(weeks=3))
    FamilyAccess.objects.create(patient=pat, family_member=fay, relationship="sister")
    expires = timezone.now() + timedelta(hours=1)
    grant_here = BreakGlassGrant.objects.create(
        clinician=cole, patient=pat, reason="covering crisis", expires_at=expires
    )
    grant_elsewhere = BreakGlassGrant.objects.create(
        clinician=oscar, patient=olga, reason="covering crisis", expires_at=expires
    )
    return World(
        harborview, elsewhere, dora, ivan, carla, cole, fay, otto, oscar, pat, quinn, rae, olga,
        pat_user, quinn_user, olga_user, group, track, grant_here, grant_elsewhere,
    )  # fmt: skip


def sign_in(client: Client, user: User) -> Client:
    """Sign in as `user`; staff also pass two-factor (a confirmed authenticator)."""
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    if user.role in STAFF_ROLES:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
            user=user, name="test", confirmed=True
        )
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def client_for():
    def make(user: User) -> Client:
        return sign_in(Client(), user)

    return make
