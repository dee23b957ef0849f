"""Demo data for the weekly schedule: time patterns, availability, and a published plan for this week plus a
draft for next week (so the director sees the comparison). Called from openiop/demo/builder.py."""

from __future__ import annotations

import random
from datetime import date, timedelta

from openiop.accounts.models import Program, Role, User
from openiop.intake.models import CareTeamMember, EnrollmentStatus, FamilyAccess, Patient
from openiop.scheduling import services
from openiop.scheduling.models import (
    ClinicianAvailability,
    GroupSlot,
    PatientAvailability,
    Population,
    TherapyGroup,
    Track,
    TrackPattern,
)

PARTS_BY_SLUG = {"adult-su-evening": [2], "adult-mh-morning": [0], "adolescent-after-school": [1]}
DAYS_BY_PART = {0: "013", 1: "024", 2: "023"}


def populate(program: Program, *, today: date, seed: int, group_capacity: int | None = None) -> None:
    rng = random.Random(seed + 9)  # noqa: S311 -- synthetic data, not secrets
    tracks = list(Track.objects.filter(program=program))
    TrackPattern.objects.bulk_create(
        TrackPattern(
            track=t,
            parts=PARTS_BY_SLUG.get(t.slug, [2]),
            hours_per_day=2 if t.population == Population.ADOLESCENT else 3,
        )
        for t in tracks
    )
    part_of = {t.pk: PARTS_BY_SLUG.get(t.slug, [2])[0] for t in tracks}
    GroupSlot.objects.bulk_create(
        GroupSlot(group=g, part=part_of[g.track_id], days=DAYS_BY_PART[part_of[g.track_id]])
        for g in TherapyGroup.objects.filter(track__program=program)
    )
    clinicians = list(User.objects.filter(program=program, role=Role.CLINICIAN).order_by("pk"))
    # whoever is primary clinician to an adolescent sees adolescents
    teen_primaries = set(
        CareTeamMember.objects.filter(
            patient__program=program, is_primary=True, patient__enrollments__track__population=Population.ADOLESCENT
        ).values_list("clinician_id", flat=True)
    )
    rows = []
    for i, c in enumerate(clinicians):
        parts = [(0, 2), (1, 2), (0, 1)][i % 3]
        days = sorted(rng.sample(range(5), 4 + (i % 2)))
        rows.append(
            ClinicianAvailability(
                clinician=c,
                blocks=[[d, p] for d in days for p in parts],
                max_hours=36,
                max_caseload=18,
                sees_adolescents=i % 3 == 2 or c.pk in teen_primaries,
            )
        )
    ClinicianAvailability.objects.bulk_create(rows)
    with_family = set(FamilyAccess.objects.filter(patient__program=program).values_list("patient_id", flat=True))
    patients = Patient.objects.filter(
        program=program, enrollments__status__in=[EnrollmentStatus.ACTIVE, EnrollmentStatus.PLANNED]
    ).values_list("pk", "enrollments__track_id")
    availability = []
    for pk, track_id in patients:
        main = part_of.get(track_id, 2)
        blocks = [[d, p] for d in range(5) for p in range(3) if rng.random() < (0.8 if p == main else 0.3)]
        availability.append(PatientAvailability(patient_id=pk, blocks=blocks, family_sessions=pk in with_family))
    PatientAvailability.objects.bulk_create(availability, batch_size=2000, ignore_conflicts=True)

    director = User.objects.filter(program=program, role=Role.DIRECTOR).first()
    if director is None:
        return
    method = "cp-sat" if len(availability) <= 400 else "greedy"
    week = services.monday_of(today)
    plan = services.create_plan(
        actor=director, program=program, week_start=week, method=method, time_limit=5, group_capacity=group_capacity
    )
    services.publish_plan(actor=director, plan=plan)
    services.create_plan(
        actor=director,
        program=program,
        week_start=week + timedelta(days=7),
        method=method,
        time_limit=5,
        group_capacity=group_capacity,
    )
