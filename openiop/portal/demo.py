"""Demo data for the portal: a published public page, track listings, two weeks of sessions for the
active patients (so Today, the schedule and reminders have something to show) and a first message."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from openiop.accounts.models import Program
from openiop.intake.models import CareTeamMember, EnrollmentStatus, FamilyAccess
from openiop.portal.models import CareMessage, FaqEntry, Modality, ProgramPage, TimeOfDay, TrackListing
from openiop.scheduling.models import Session, SessionAttendee, SessionKind, Track

# slug -> (modality, time of day, hours a week, days a week, weekdays (Mon=0), start time, hours a day)
LISTINGS = {
    "adult-su-evening": (Modality.VIRTUAL, TimeOfDay.EVENING, 9, 3, (0, 2, 3), time(18, 0), 3),
    "adult-mh-morning": (Modality.HYBRID, TimeOfDay.MORNING, 12, 4, (0, 1, 2, 3), time(9, 0), 3),
    "adolescent-after-school": (Modality.VIRTUAL, TimeOfDay.AFTERNOON, 6, 3, (0, 1, 3), time(15, 30), 2),
}

FAQ = [
    (
        "Do I need a referral from a doctor?",
        "No. You can refer yourself, and we will call you back within two working days.",
    ),
    ("What do I need to join online?", "A phone, tablet or computer with a camera, and a private place to sit."),
    ("Can I keep working?", "Yes. Our evening track is for people who work or study during the day."),
]


def build(program: Program, today: date) -> None:
    page = ProgramPage.objects.create(
        program=program,
        published=True,
        about="Harborview offers virtual intensive outpatient care for adults and teenagers across Massachusetts.",
        who_it_helps="Adults and teenagers 13-17 living with depression, anxiety, trauma, or alcohol or drug use.",
        days="Monday to Thursday",
        typical_length="8-12",
        rolling_admission=True,
        accepts_masshealth=True,
        insurance="Blue Cross Blue Shield of Massachusetts\nHarvard Pilgrim\nTufts Health Plan\nMedicare",
        licence="Licensed by the Massachusetts Department of Mental Health (demo)",
        massachusetts_label="Substance-use day treatment (SOAP), licensed by DPH/BSAS under 105 CMR 164 (demo)",
        first_week="Day 1: a welcome call with your therapist. Days 2-4: your first groups, and a check of your "
        "video set-up.",
        phone="617-555-0100",
        email="intake@harborview.example.org",
        city="Boston",
    )
    FaqEntry.objects.bulk_create(FaqEntry(page=page, question=q, answer=a, position=i) for i, (q, a) in enumerate(FAQ))
    tracks = {t.slug: t for t in Track.objects.filter(program=program)}
    TrackListing.objects.bulk_create(
        TrackListing(track=tracks[slug], modality=m, time_of_day=tod, hours_per_week=h, days_per_week=d)
        for slug, (m, tod, h, d, _days, _start, _len) in LISTINGS.items()
        if slug in tracks
    )
    _sessions(program, tracks, today)
    _messages(program)


def _sessions(program: Program, tracks: dict[str, Track], today: date) -> None:
    tz = timezone.get_current_timezone()
    monday = today - timedelta(days=today.weekday())
    sessions: list[Session] = []
    for slug, (_m, _tod, _h, _d, weekdays, start, length) in LISTINGS.items():
        if slug not in tracks:
            continue
        for week in (0, 1):
            for weekday in weekdays:
                starts = datetime.combine(monday + timedelta(days=7 * week + weekday), start, tzinfo=tz)
                sessions.append(
                    Session(
                        program=program, kind=SessionKind.GROUP, track=tracks[slug], title="Group",
                        starts_at=starts, ends_at=starts + timedelta(hours=length),
                    )
                )  # fmt: skip
    Session.objects.bulk_create(sessions)
    sessions = list(Session.objects.filter(program=program, kind=SessionKind.GROUP).select_related("track"))
    active = {}
    for track in tracks.values():
        active[track.pk] = list(
            track.enrollments.filter(status=EnrollmentStatus.ACTIVE).values_list("patient_id", flat=True)
        )
    SessionAttendee.objects.bulk_create(
        SessionAttendee(session=s, patient_id=p) for s in sessions if s.track_id for p in active.get(s.track_id, [])
    )
    # A family session next Tuesday evening for each patient who shares family sessions.
    grants = list(
        FamilyAccess.objects.filter(patient__program=program, may_see_family_sessions=True, status="active")
        .select_related("patient")
        .order_by("pk")[:20]
    )
    tuesday = monday + timedelta(days=8)
    family_sessions = [
        Session(
            program=program, kind=SessionKind.FAMILY, title="Family session",
            starts_at=datetime.combine(tuesday, time(17, 0), tzinfo=tz) + timedelta(minutes=0),
            ends_at=datetime.combine(tuesday, time(18, 0), tzinfo=tz),
        )
        for _grant in grants
    ]  # fmt: skip
    Session.objects.bulk_create(family_sessions)
    made = list(Session.objects.filter(program=program, kind=SessionKind.FAMILY).order_by("pk"))
    SessionAttendee.objects.bulk_create(
        SessionAttendee(session=s, patient=g.patient) for s, g in zip(made, grants, strict=True)
    )
    Through = Session.family_guests.through
    Through.objects.bulk_create(
        Through(session_id=s.pk, user_id=g.family_member_id) for s, g in zip(made, grants, strict=True)
    )


def _messages(program: Program) -> None:
    primaries = CareTeamMember.objects.filter(patient__program=program, is_primary=True).select_related("patient")
    CareMessage.objects.bulk_create(
        CareMessage(
            patient=m.patient,
            author_id=m.clinician_id,
            from_patient=False,
            body="Welcome to the program! Write to me here if anything about your schedule changes.",
        )
        for m in primaries.order_by("pk")[:30]
    )
