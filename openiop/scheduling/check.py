"""An independent check of a weekly plan against every hard rule. Pure: no Django.

It works from hours on the clock, not from the solver's blocks and variables, so a modelling mistake in the
solver shows up here. Returns a list of problems in words; an empty list means the plan is valid.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from openiop.scheduling.problem import DAYS, PART_START_HOUR, Instance, Solution, part_of_hour

Hour = tuple[int, int]  # (day, clock hour)


def check(instance: Instance, solution: Solution) -> list[str]:
    problems: list[str] = []
    s = instance.settings
    patient_hours: dict[str, list[tuple[Hour, str]]] = defaultdict(list)
    clinician_hours: dict[str, list[tuple[Hour, str]]] = defaultdict(list)
    seen_members: Counter[str] = Counter()

    for g in solution.groups:
        track = instance.tracks.get(g.class_key[0])
        if track is None:
            problems.append(f"group {g.key}: unknown track")
            continue
        part, days = g.class_key[1], g.class_key[2]
        label = f"group {g.key}"
        if part not in track.parts:
            problems.append(f"{label}: meets in a part of the day its track does not use")
        if len(set(days)) != track.days_per_week:
            problems.append(f"{label}: meets on {len(set(days))} days, its track needs {track.days_per_week}")
        if len(g.members) > s.group_capacity:
            problems.append(f"{label}: {len(g.members)} members, more than {s.group_capacity}")
        facilitator = instance.clinicians.get(g.facilitator)
        if facilitator is None:
            problems.append(f"{label}: no facilitator")
        elif track.adolescent and not facilitator.sees_adolescents:
            problems.append(f"{label}: facilitator {g.facilitator} does not see adolescents")
        start = PART_START_HOUR[part]
        meeting = [(d, start + h) for d in days for h in range(track.hours_per_day)]
        for hour in meeting:
            clinician_hours[g.facilitator].append((hour, label))
        if facilitator is not None:
            for d in days:
                if (d, part) not in facilitator.available:
                    problems.append(f"{label}: facilitator {g.facilitator} not available {DAYS[d]}")
        for member in g.members:
            seen_members[member] += 1
            p = instance.patients.get(member)
            if p is None:
                problems.append(f"{label}: unknown member {member}")
                continue
            if p.track != track.key:
                # tracks carry population and focus: a different track means mixing them
                mine = instance.tracks[p.track]
                if mine.adolescent != track.adolescent:
                    problems.append(f"{label}: {member} mixes adolescents and adults")
                if mine.focus != track.focus:
                    problems.append(f"{label}: {member}'s focus does not match")
                problems.append(f"{label}: {member} is not in this track")
            for d in days:
                if (d, part) not in p.available:
                    problems.append(f"{label}: {member} not available {DAYS[d]} {part}")
            for hour in meeting:
                patient_hours[member].append((hour, label))
    for member, n in seen_members.items():
        if n > 1:
            problems.append(f"{member} is in {n} groups")

    primary_of: dict[str, str] = {}
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    for a in solution.appointments:
        label = f"{a.kind} session of {a.patient}"
        p = instance.patients.get(a.patient)
        k = instance.clinicians.get(a.clinician)
        if p is None or k is None:
            problems.append(f"{label}: unknown patient or clinician")
            continue
        try:
            block = (a.day, part_of_hour(a.hour))
        except ValueError:
            problems.append(f"{label}: at {a.hour}:00, outside the working parts of the day")
            continue
        if block not in p.available:
            problems.append(f"{label}: patient not available then")
        if block not in k.available:
            problems.append(f"{label}: clinician {a.clinician} not available then")
        if not instance.can_see(k, p):
            problems.append(f"{label}: clinician {a.clinician} does not see adolescents")
        expected = p.primary or solution.primaries.get(a.patient)
        if expected is not None and a.clinician != expected:
            problems.append(f"{label}: with {a.clinician}, not the primary clinician {expected}")
        if primary_of.setdefault(a.patient, a.clinician) != a.clinician:
            problems.append(f"{label}: individual and family sessions with different clinicians")
        if a.kind == "family" and not p.family_due:
            problems.append(f"{label}: no family session is due")
        kinds[a.patient][a.kind] += 1
        patient_hours[a.patient].append(((a.day, a.hour), label))
        clinician_hours[a.clinician].append(((a.day, a.hour), label))
    for patient, counts in kinds.items():
        for kind, n in counts.items():
            if n > 1:
                problems.append(f"{patient} has {n} {kind} sessions")

    for who, booked in list(patient_hours.items()) + list(clinician_hours.items()):
        hours_seen: Counter[Hour] = Counter(h for h, _ in booked)
        for hour, n in hours_seen.items():
            if n > 1:
                problems.append(f"{who} double-booked {DAYS[hour[0]]} {hour[1]}:00")

    for kk, k in instance.clinicians.items():
        if len(clinician_hours[kk]) > k.max_hours:
            problems.append(f"clinician {kk}: {len(clinician_hours[kk])} hours, more than {k.max_hours}")
    caseload = Counter(p.primary for p in instance.patients.values() if p.primary is not None)
    caseload.update(solution.primaries.values())
    for kk, n in caseload.items():
        # fixed primaries are the clinic's decision; the plan may only add patients within the limit
        chosen = kk in solution.primaries.values()
        if chosen and kk in instance.clinicians and n > instance.clinicians[kk].max_caseload:
            problems.append(f"clinician {kk}: caseload {n}, more than {instance.clinicians[kk].max_caseload}")

    for pk in solution.at_dose(instance):
        days_seen = {h[0] for h, _ in patient_hours[pk]}
        if not 3 <= len(days_seen) <= 5:
            problems.append(f"{pk} at full dose on {len(days_seen)} days")
        if len(patient_hours[pk]) < instance.patients[pk].required_hours:
            problems.append(f"{pk} at full dose with {len(patient_hours[pk])} hours")
    return problems
