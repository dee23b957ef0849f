"""Synthetic referrals for the demo: a waitlist in every state, with
screenings, recommendations (some overridden), a crisis flag, and history."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from openiop.accounts.models import Program, Role, User
from openiop.referrals import level_of_care as loc
from openiop.referrals.models import Recommendation, Referral, ReferralEvent, Screening, Source, Status

GIVEN = ["Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Harper", "Jordan", "Kai", "Logan", "Morgan", "Noor",
         "Parker", "Reese", "Rowan", "Sage", "Skyler", "Taylor"]  # fmt: skip
FAMILY = ["Abara", "Brandt", "Chen", "Diaz", "Eriksen", "Fischer", "Gomez", "Haddad", "Ito", "Kowalski", "Lindqvist",
          "Mensah", "Novak", "Okoro", "Pereira", "Quispe", "Rossi", "Sato"]  # fmt: skip
CONCERNS = [
    "Drinking has crept up to every night; missed work twice this month.",
    "Panic attacks most days, stopped driving, sleeping badly.",
    "Leaving residential treatment next week and want support close to home.",
    "Using pills again after two years; family worried.",
    "Low mood since the winter, hard to get out of bed, school slipping.",
    "Cannabis every day, anxious when I try to stop.",
]
# status, weight
MIX = [
    (Status.NEW, 5),
    (Status.SCREENING, 1),
    (Status.RECOMMENDED, 3),
    (Status.CONSENTED, 2),
    (Status.ENROLLED, 2),
    (Status.REFERRED_ELSEWHERE, 1),
    (Status.DECLINED, 1),
    (Status.NO_RESPONSE, 1),
]
PATH: list[str] = [Status.NEW, Status.SCREENING, Status.RECOMMENDED, Status.CONSENTED, Status.ENROLLED]


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def build(program: Program, *, rng: random.Random, today: date, count: int) -> int:
    intake = User.objects.filter(program=program, role=Role.INTAKE).first()
    clinician = User.objects.filter(program=program, role=Role.CLINICIAN).order_by("id").first()
    statuses = [s for s, weight in MIX for _i in range(weight)]
    referrals: list[Referral] = []
    for n in range(count):
        status = statuses[n % len(statuses)]
        source = rng.choice([Source.SELF, Source.SELF, Source.CLINICIAN, Source.STEP_DOWN])
        created = today - timedelta(days=rng.randint(0, 35))
        substance = rng.random() < 0.6
        adolescent = rng.random() < 0.15
        age = rng.randint(13, 17) if adolescent else rng.randint(19, 66)
        referrals.append(
            Referral(
                program=program,
                reference=f"R-DEMO{n + 1:04d}",
                source=source,
                status=status,
                given_name=rng.choice(GIVEN),
                family_name=rng.choice(FAMILY),
                date_of_birth=today - timedelta(days=age * 365 + rng.randint(0, 300)),
                email=f"referral{n + 1}@example.org",
                phone=f"617-555-{1000 + n:04d}",
                concerns=rng.choice(CONCERNS),
                concern_substance_use=substance,
                concern_mental_health=not substance or rng.random() < 0.4,
                danger_now=n == 3,
                insurance=rng.choice(["MassHealth", "Blue Cross", "Tufts", "Harvard Pilgrim", ""]),
                availability=rng.sample(
                    ["mon-evening", "tue-evening", "wed-morning", "thu-evening", "fri-afternoon"], 3
                ),
                referrer_name="" if source == Source.SELF else rng.choice(["Dr. Lee, primary care", "Harbor House"]),
                residential_discharge_date=created + timedelta(days=7) if source == Source.STEP_DOWN else None,
                entered_by=None if source == Source.SELF else intake,
                created_at=_at(created, 9),
                status_changed_at=_at(created, 10),
                urgent_since=_at(created, 9) if n == 3 else None,
            )
        )
    referrals = Referral.objects.bulk_create(referrals)
    events: list[ReferralEvent] = []
    screenings: list[Screening] = []
    for referral in referrals:
        created = referral.created_at
        path: list[str] = (
            PATH[: PATH.index(referral.status) + 1] if referral.status in PATH else [Status.NEW, referral.status]
        )
        previous = ""
        for step, step_status in enumerate(path):
            events.append(
                ReferralEvent(
                    referral=referral, from_status=previous, to_status=step_status,
                    actor=None if step == 0 and referral.source == Source.SELF else intake,
                    at=created + timedelta(days=step, hours=step),
                )
            )  # fmt: skip
            previous = step_status
        if referral.status in (Status.RECOMMENDED, Status.CONSENTED, Status.ENROLLED) and intake:
            focus = "substance-use" if referral.concern_substance_use else "mental-health"
            if referral.concern_substance_use and referral.concern_mental_health:
                focus = "co-occurring"
            screenings.append(
                Screening(
                    referral=referral, done_by=intake, focus=focus,
                    withdrawal=rng.randint(0, 2), biomedical=rng.randint(0, 1), emotional=rng.randint(1, 3),
                    readiness=rng.randint(1, 3), relapse=rng.randint(1, 3), environment=rng.randint(0, 3),
                    hours_per_week=rng.choice([6, 9, 12, 15]), days_per_week=rng.choice([2, 3, 4, 5]),
                    age=(today - referral.date_of_birth).days // 365,
                    stepping_down=referral.source == Source.STEP_DOWN, created_at=created + timedelta(days=1),
                )
            )  # fmt: skip
    ReferralEvent.objects.bulk_create(events)
    screenings = Screening.objects.bulk_create(screenings)
    recommendations = []
    for index, screening in enumerate(screenings):
        result = loc.recommend(screening.facts())
        decided = screening.referral.status != Status.RECOMMENDED or index % 2 == 0
        overridden = decided and index % 5 == 4
        recommendations.append(
            Recommendation(
                referral=screening.referral, screening=screening, rules_version=result.rules_version,
                level=result.level, track=result.track or "", clinical_level=result.clinical_level,
                dose_shortfall=result.dose_shortfall,
                fired=[{"rule": f.rule, "says": f.says, "facts": f.facts} for f in result.fired],
                decision=("overridden" if overridden else "confirmed") if decided else "pending",
                final_level=(loc.IOP if overridden else result.level) if decided else "",
                final_track=(result.track or loc.TRACK_MENTAL_HEALTH) if overridden else (result.track or ""),
                override_reason="Can arrange a third evening with her employer." if overridden else "",
                decided_by=clinician if decided else None,
                decided_at=screening.created_at + timedelta(hours=3) if decided else None,
            )
        )  # fmt: skip
    Recommendation.objects.bulk_create(recommendations)
    return len(referrals)
