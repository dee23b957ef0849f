"""Deterministic synthetic programs for the benchmark, the tests and the demo. Pure: no Django."""

from __future__ import annotations

import random

from openiop.scheduling import greedy
from openiop.scheduling.problem import (
    Block,
    ClinicianSpec,
    Instance,
    PatientSpec,
    PreviousGroup,
    Settings,
    TrackSpec,
)

TRACKS = (
    TrackSpec("adult-su-eve", "Adult substance use, evenings", False, "substance-use", (2,)),
    TrackSpec("adult-su-day", "Adult substance use, days", False, "substance-use", (0, 1)),
    TrackSpec("adult-mh-day", "Adult mental health, days", False, "mental-health", (0, 1)),
    TrackSpec("adult-mh-eve", "Adult mental health, evenings", False, "mental-health", (2,)),
    TrackSpec("adult-co-eve", "Adult co-occurring, evenings", False, "co-occurring", (2,)),
    TrackSpec("teen-mh", "Adolescent mental health, afternoons", True, "mental-health", (1,), hours_per_day=2),
)
TRACK_WEIGHTS = (0.24, 0.12, 0.18, 0.16, 0.14, 0.16)


def program(patients: int, seed: int, *, settings: Settings | None = None, history: bool = True) -> Instance:
    """A program of `patients` people and about patients / 12 clinicians.

    With `history`, last week's plan is a greedy plan for most of them, and a tenth are newcomers or changed
    their availability since, so continuity means something."""
    rng = random.Random(seed)  # noqa: S311 -- synthetic data, not secrets
    tracks = {t.key: t for t in TRACKS}
    n_clinicians = max(2, round(patients / 12))
    clinicians = {}
    for i in range(n_clinicians):
        parts = rng.sample((0, 1, 2), 2) if rng.random() < 0.7 else [0, 1, 2]
        if i % 3 == 0 and 2 not in parts:
            parts[0] = 2  # evenings are where the demand is
        days = sorted(rng.sample(range(5), rng.choice((4, 5, 5))))
        available = frozenset((d, p) for d in days for p in parts)
        clinicians[f"k{i:04d}"] = ClinicianSpec(
            f"k{i:04d}",
            f"Clinician {i}",
            available,
            max_hours=rng.choice((28, 32, 36)),
            max_caseload=rng.choice((14, 16, 18)),
            sees_adolescents=rng.random() < 0.35,
        )
    people = {}
    caseload = dict.fromkeys(clinicians, 0)
    for i in range(patients):
        track = rng.choices(TRACKS, TRACK_WEIGHTS)[0]
        people[f"p{i:05d}"] = _patient(rng, f"p{i:05d}", track, clinicians, caseload)
    instance = Instance(tracks, clinicians, people, settings or Settings())
    if history:
        instance = with_history(instance, seed)
    return instance


def _availability(rng: random.Random, track: TrackSpec) -> frozenset[Block]:
    available: set[Block] = set()
    for d in range(5):
        for part in range(3):
            chance = 0.72 if part in track.parts else 0.25
            if rng.random() < chance:
                available.add((d, part))
    return frozenset(available)


def _patient(
    rng: random.Random,
    key: str,
    track: TrackSpec,
    clinicians: dict[str, ClinicianSpec],
    caseload: dict[str, int],
) -> PatientSpec:
    available = _availability(rng, track)
    # the intake coordinator picks a primary clinician who can see them, has room and shares free time
    fits = [
        k
        for k, c in clinicians.items()
        if caseload[k] < c.max_caseload
        and (c.sees_adolescents or not track.adolescent)
        and len(c.available & available) >= 2
    ]
    primary = rng.choice(fits) if fits else None
    if primary is not None:
        caseload[primary] += 1
    return PatientSpec(
        key,
        track.key,
        available,
        required_hours=6 if track.adolescent else 9,
        primary=primary,
        family_due=rng.random() < 0.2,
        preferred_parts=frozenset({rng.choice(track.parts)}) if rng.random() < 0.3 else frozenset(),
    )


def with_history(instance: Instance, seed: int) -> Instance:
    """Last week = a greedy plan of this program; then 5% leave, 5% arrive and 5% change availability."""
    last = greedy.solve(instance)
    rng = random.Random(seed + 1)  # noqa: S311 -- synthetic data, not secrets
    group_of = last.group_of()
    slot_of = {a.patient: a.block for a in last.appointments if a.kind == "individual"}
    hour_of = {a.patient: a.hour for a in last.appointments if a.kind == "individual"}
    previous = tuple(PreviousGroup(g.key, g.class_key, g.facilitator) for g in last.groups)
    people = {}
    tracks = list(instance.tracks.values())
    for key, p in instance.patients.items():
        roll = rng.random()
        if roll < 0.05:  # discharged, replaced by a newcomer with no primary yet
            track = rng.choices(tracks, TRACK_WEIGHTS[: len(tracks)])[0]
            people[key] = PatientSpec(
                key, track.key, _availability(rng, track), required_hours=6 if track.adolescent else 9
            )
            continue
        g = group_of.get(key)
        changed = roll < 0.10
        people[key] = PatientSpec(
            key,
            p.track,
            _availability(rng, instance.tracks[p.track]) if changed else p.available,
            required_hours=p.required_hours,
            primary=p.primary,
            family_due=rng.random() < 0.2,
            last_class=g.class_key if g else None,
            last_group=g.key if g else None,
            last_individual=slot_of.get(key),
            last_individual_hour=hour_of.get(key),
            preferred_parts=p.preferred_parts,
        )
    return Instance(instance.tracks, instance.clinicians, people, instance.settings, previous)
