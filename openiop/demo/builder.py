"""A deterministic synthetic IOP program for the demo, the tests and the benchmarks.

Every name is made up from short lists below; nothing here is about a real
person. The same --patients and --seed always give the same program."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import Program, Role, User
from openiop.audit import services as audit
from openiop.intake.models import CareTeamMember, Enrollment, EnrollmentStatus, FamilyAccess, Patient
from openiop.measures import demo as measures_demo
from openiop.portal import demo as portal_demo
from openiop.referrals import demo as referrals_demo
from openiop.rooms.demo import build_rooms_demo
from openiop.scheduling import demo as scheduling_demo
from openiop.scheduling.models import Focus, GroupMembership, Population, TherapyGroup, Track
from openiop.treatment import demo as treatment_demo

GIVEN_NAMES = [
    "Alex",
    "Bianca",
    "Carlos",
    "Dana",
    "Eli",
    "Fatima",
    "Gabriel",
    "Hana",
    "Isaac",
    "Jada",
    "Kenji",
    "Lucia",
    "Marcus",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Samir",
    "Tanya",
    "Uriel",
    "Vera",
    "Wes",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Ana",
    "Bruno",
    "Chloe",
    "Diego",
    "Esther",
    "Felipe",
    "Grace",
    "Hugo",
    "Ines",
    "Jonah",
]
FAMILY_NAMES = [
    "Almeida",
    "Baptiste",
    "Chen",
    "Doyle",
    "Estrada",
    "Fontaine",
    "Goldberg",
    "Haddad",
    "Ibarra",
    "Jean-Louis",
    "Kowalski",
    "Lima",
    "Murphy",
    "Nguyen",
    "Okafor",
    "Pereira",
    "Quintero",
    "Rossi",
    "Sullivan",
    "Tavares",
    "Umarov",
    "Vasquez",
    "Walsh",
    "Xu",
    "Yamamoto",
    "Zielinski",
    "Costa",
    "Desrosiers",
    "Moreau",
    "Santos",
]
RELATIONSHIPS = ["spouse", "partner", "parent", "sibling", "friend", "adult child"]

TRACKS = [
    # slug, name, population, focus, meets
    ("adult-su-evening", "Adult substance use – evenings", Population.ADULT, Focus.SUBSTANCE_USE,
     "Mon, Wed, Thu 6:00–9:00 pm"),
    ("adult-mh-morning", "Adult mental health – mornings", Population.ADULT, Focus.MENTAL_HEALTH,
     "Mon–Thu 9:00 am–12:00 pm"),
    ("adolescent-after-school", "Adolescent – after school", Population.ADOLESCENT, Focus.MENTAL_HEALTH,
     "Mon, Tue, Thu 3:30–5:30 pm"),
]  # fmt: skip

DEMO_PROGRAM_SLUG = "harborview"

GROUP_SIZE = 10  # the demo's groups, as built and as the published plan keeps them


# How many earlier episodes of care (readmissions) a patient with a current enrollment has had: 0, 1, 2, ...
# Substance use and depression often take several episodes of treatment; the demo leans on that so that
# the pages show long histories (and --patients 10000 gives about a million measure responses).
EARLIER_EPISODES_WEIGHTS = (22, 25, 22, 15, 10, 6)


def earlier_episodes(patient: Patient, track: Track, *, before: date, rng: random.Random) -> list[Enrollment]:
    """Finished episodes in the same track before `before`, newest first: 8 to 16 weeks each, 6 weeks to a year
    apart, none starting before the patient was old enough for the track (13 for adolescents, 18 for adults)."""
    count = rng.choices(range(len(EARLIER_EPISODES_WEIGHTS)), weights=EARLIER_EPISODES_WEIGHTS)[0]
    youngest = 13 if track.population == Population.ADOLESCENT else 18
    out: list[Enrollment] = []
    for _ in range(count):
        end = before - timedelta(weeks=rng.randint(6, 52))
        planned_weeks = rng.choice([8, 10, 12])
        extended = rng.choice([0, 0, 0, 2, 4])  # a progress review extended some stays
        start = end - timedelta(weeks=planned_weeks + extended)
        start -= timedelta(days=start.weekday())  # episodes start on a Monday
        if patient.age_on(start) < youngest:
            break
        out.append(
            Enrollment(
                patient=patient,
                track=track,
                status=EnrollmentStatus.FINISHED,
                start_date=start,
                planned_end_date=start + timedelta(weeks=planned_weeks),
                end_date=end,
            )
        )
        before = start
    return out


@dataclass
class DemoSummary:
    program: Program
    clinicians: int
    patients: int
    family_members: int
    usernames: dict[str, list[str]] = field(default_factory=dict)


class DemoAlreadyLoaded(Exception):
    pass


class Progress(Protocol):
    def __call__(self, stage: str, part: float = 0.0, detail: str = "") -> None:
        """`stage` has started, or is `part` (0 to 1) done; `detail` says how far in words."""


def _silent(stage: str, part: float = 0.0, detail: str = "") -> None:
    pass


def build_demo_program(
    *,
    patients: int,
    seed: int,
    password: str,
    today: date | None = None,
    progress: Progress = _silent,
) -> DemoSummary:
    """Create the demo program in one transaction (all or nothing). `progress` is told each stage as it
    starts, and how far the long measures stage has got (seed_demo prints a progress bar from it)."""
    if Program.objects.filter(slug=DEMO_PROGRAM_SLUG).exists():
        raise DemoAlreadyLoaded
    rng = random.Random(seed)
    today = today or timezone.localdate()
    password_hash = make_password(password)  # one slow hash, shared by every demo account
    clinician_count = max(3, (patients + 11) // 12)

    with transaction.atomic():
        progress("people and enrollments")
        program = Program.objects.create(name="Harborview Virtual IOP", slug=DEMO_PROGRAM_SLUG)

        def person(username: str, role: Role, first: str, last: str) -> User:
            return User(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@example.org",
                role=role,
                program=program,
                password=password_hash,
            )

        staff = [
            person("director", Role.DIRECTOR, "Dana", "Whitfield"),
            person("intake", Role.INTAKE, "Ivan", "Morales"),
        ]
        clinicians = [
            person(f"clinician{i}", Role.CLINICIAN, rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES))
            for i in range(1, clinician_count + 1)
        ]
        User.objects.bulk_create(staff + clinicians)
        clinicians = list(User.objects.filter(program=program, role=Role.CLINICIAN).order_by("id"))

        tracks = Track.objects.bulk_create(
            [
                Track(program=program, slug=slug, name=name, population=population, focus=focus, schedule_summary=meets)
                for slug, name, population, focus, meets in TRACKS
            ]
        )

        patient_users = [
            person(f"patient{i}", Role.PATIENT, rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES))
            for i in range(1, patients + 1)
        ]
        User.objects.bulk_create(patient_users, batch_size=2000)
        patient_users = list(User.objects.filter(program=program, role=Role.PATIENT).order_by("id"))

        patient_rows: list[Patient] = []
        plans: list[tuple[Track, str, int]] = []  # track, status, weeks since start
        for index, account in enumerate(patient_users):
            track = tracks[index % len(tracks)]
            adolescent = track.population == Population.ADOLESCENT
            # Ages today; enrollments start up to 30 weeks back, so an adolescent
            # of 14 today was at least 13 then, and an adult of 19 at least 18.
            age = rng.randint(14, 17) if adolescent else rng.randint(19, 68)
            birth = today - timedelta(days=age * 365 + rng.randint(0, 364))
            patient_rows.append(
                Patient(
                    program=program,
                    record_number=f"H-{index + 1:06d}",
                    given_name=account.first_name,
                    family_name=account.last_name,
                    date_of_birth=birth,
                    user=account,
                )
            )
            roll = rng.random()
            if roll < 0.08:
                plans.append((track, "", 0))  # referred, not enrolled yet
            elif roll < 0.18:
                plans.append((track, EnrollmentStatus.PLANNED, -rng.randint(1, 2)))
            elif roll < 0.28:
                plans.append((track, EnrollmentStatus.FINISHED, rng.randint(12, 30)))
            else:
                plans.append((track, EnrollmentStatus.ACTIVE, rng.randint(0, 10)))
        Patient.objects.bulk_create(patient_rows, batch_size=2000)
        patient_rows = list(Patient.objects.filter(program=program).order_by("id"))

        enrollments: list[Enrollment] = []
        care_team: list[CareTeamMember] = []
        for index, (patient, (track, status, weeks)) in enumerate(zip(patient_rows, plans, strict=True)):
            clinician = clinicians[index % len(clinicians)]
            if status:
                start = today - timedelta(weeks=weeks, days=today.weekday())
                planned_weeks = rng.choice([8, 10, 12])
                finished = status == EnrollmentStatus.FINISHED
                enrollments.append(
                    Enrollment(
                        patient=patient,
                        track=track,
                        status=status,
                        start_date=start,
                        planned_end_date=start + timedelta(weeks=planned_weeks),
                        end_date=start + timedelta(weeks=planned_weeks) if finished else None,
                    )
                )
                earlier = earlier_episodes(patient, track, before=start, rng=rng)
                enrollments.extend(earlier)
                since = earlier[-1].start_date if earlier else start
                care_team.append(CareTeamMember(patient=patient, clinician=clinician, is_primary=True, since=since))
        Enrollment.objects.bulk_create(enrollments, batch_size=2000)
        CareTeamMember.objects.bulk_create(care_team, batch_size=2000)

        # Groups of at most 10 for each track's active patients, each led by
        # a clinician; the facilitator sees the members (the access rules).
        memberships: list[GroupMembership] = []
        by_track: dict[int, list[Enrollment]] = {}
        for enrollment in enrollments:
            if enrollment.status == EnrollmentStatus.ACTIVE:
                by_track.setdefault(enrollment.track_id, []).append(enrollment)
        group_number = 0
        for track in tracks:
            active = by_track.get(track.pk, [])
            for first in range(0, max(len(active), 1), GROUP_SIZE):
                group = TherapyGroup.objects.create(track=track, name=f"{track.name} · group {first // GROUP_SIZE + 1}")
                group.facilitators.add(clinicians[group_number % len(clinicians)])
                group_number += 1
                memberships.extend(
                    GroupMembership(group=group, patient_id=e.patient_id, start_date=e.start_date)
                    for e in active[first : first + GROUP_SIZE]
                )
        GroupMembership.objects.bulk_create(memberships, batch_size=2000)

        family_users: list[User] = []
        family_for: list[Patient] = []
        for patient in patient_rows[::4]:
            number = len(family_users) + 1
            family_users.append(person(f"family{number}", Role.FAMILY, rng.choice(GIVEN_NAMES), patient.family_name))
            family_for.append(patient)
        User.objects.bulk_create(family_users, batch_size=2000)
        family_users = list(User.objects.filter(program=program, role=Role.FAMILY).order_by("id"))
        FamilyAccess.objects.bulk_create(
            [
                FamilyAccess(
                    patient=patient,
                    family_member=member,
                    relationship=rng.choice(RELATIONSHIPS),
                    may_see_family_sessions=True,
                    may_see_progress_summary=rng.random() < 0.5,
                )
                for patient, member in zip(family_for, family_users, strict=True)
            ],
            batch_size=2000,
        )
        progress("measures")
        measures_started = time.monotonic()

        def measures_progress(done: int, total: int) -> None:
            rate = done / max(time.monotonic() - measures_started, 1e-6)
            progress("measures", done / total, f"{done:,} of {total:,} responses, {rate:,.0f} a second")

        measures_demo.build(tracks=tracks, enrollments=enrollments, rng=rng, today=today, report=measures_progress)
        progress("referrals")
        referrals_demo.build(program, rng=rng, today=today, count=max(12, patients // 3))
        progress("public page and portal")
        portal_demo.build(program, today)
        progress("treatment plans and notes")
        treatment_demo.build(program=program, today=today, seed=seed)
        progress("weekly schedule")
        scheduling_demo.populate(program, today=today, seed=seed, group_capacity=GROUP_SIZE)
        progress("video rooms and attendance")
        build_rooms_demo(program, rng, today)
        progress("done")
        audit.record(
            "create",
            actor=None,
            record=program,
            program_id=program.pk,
            detail={"demo": True, "patients": patients, "seed": seed},
        )

    return DemoSummary(
        program=program,
        clinicians=len(clinicians),
        patients=len(patient_rows),
        family_members=len(family_users),
        usernames={
            "director": ["director"],
            "intake": ["intake"],
            "clinician": [c.username for c in clinicians],
            "patient": [u.username for u in patient_users],
            "family": [u.username for u in family_users],
        },
    )
