"""The director's dashboard: figures equal an independent computation, charts drill down, input is checked."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.audit.models import AuditEntry
from openiop.intake.models import Enrollment, EnrollmentStatus
from openiop.reports import charts
from openiop.scheduling.models import Focus, Population, Track
from tests.conftest import World, make_patient


def test_bar_chart_escapes_text_and_links_each_bar() -> None:
    svg = charts.bar_chart(
        [charts.Bar("<b>x</b>", 3, href="/list/?a=1&b=2", description='Week "1"'), charts.Bar("y", 0)],
        title="T <script>",
        description="D",
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;x&lt;/b&gt;" in svg
    assert 'href="/list/?a=1&amp;b=2"' in svg and 'aria-label="Week &quot;1&quot;"' in svg
    assert svg.count("<rect") == 2 and svg.startswith("<svg") and svg.endswith("</svg>")
    assert charts.bar_chart([], title="empty", description="none").count("<rect") == 0


@pytest.mark.parametrize(
    ("value", "top"), [(0, 4), (1, 4), (3, 4), (7, 8), (11, 12), (24, 24), (26, 32), (480, 600), (4000, 4000)]
)
def test_value_axis_tops_are_round(value: float, top: float) -> None:
    assert charts._nice_max(value) == top


@pytest.fixture
def program_history(world: World) -> list[Enrollment]:
    """Forty synthetic episodes over the last six months in two tracks, with every status."""
    rng = random.Random(7)
    mh = Track.objects.create(
        program=world.harborview, name="Adult MH", slug="mh", population=Population.ADULT, focus=Focus.MENTAL_HEALTH
    )
    today = timezone.localdate()
    made = []
    for n in range(40):
        start = today - timedelta(days=rng.randint(0, 180))
        status = rng.choice(list(EnrollmentStatus))
        end = start + timedelta(days=rng.randint(20, 80)) if status == EnrollmentStatus.FINISHED else None
        if end is not None and end > today:
            end = today
        patient = make_patient(world.harborview, f"H-R{n}", None, f"R{n}")
        made.append(
            Enrollment.objects.create(
                patient=patient,
                track=rng.choice([world.track, mh]),
                status=status,
                start_date=start,
                planned_end_date=start + timedelta(weeks=10),
                end_date=end,
            )
        )
    return made


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def test_dashboard_figures_equal_an_independent_count(world: World, program_history, client_for) -> None:
    today = timezone.localdate()
    start = today - timedelta(weeks=12)
    response = client_for(world.dora).get(reverse("reports:dashboard"))
    assert response.status_code == 200
    everyone = list(Enrollment.objects.filter(patient__program=world.harborview))
    started = {EnrollmentStatus.ACTIVE, EnrollmentStatus.ONHOLD, EnrollmentStatus.FINISHED}
    in_treatment = [
        e
        for e in everyone
        if e.status in started and e.start_date <= today and (e.end_date is None or e.end_date >= today)
    ]
    by_track = {track.pk: count for track, count in response.context["census"]}
    for track in Track.objects.filter(program=world.harborview):
        assert by_track[track.pk] == len({e.patient_id for e in in_treatment if e.track_id == track.pk})
    admitted = [e for e in everyone if e.status in started and start <= e.start_date <= today]
    discharged = [e for e in everyone if e.status == EnrollmentStatus.FINISHED and start <= e.end_date <= today]  # type: ignore[operator]
    assert response.context["admissions"]["total"] == len(admitted)
    assert response.context["discharges"]["total"] == len(discharged)
    # One bar per week, each linking to its list.
    week_count = (_monday(today) - _monday(start)).days // 7 + 1
    assert response.context["admissions"]["chart"].count("<rect") == week_count
    assert b'href="/program/dashboard/list/?' in response.content


def test_a_bar_drills_down_to_exactly_its_patients_and_the_list_is_audited(
    world: World, program_history, client_for
) -> None:
    today = timezone.localdate()
    started = [  # every episode of the program (the world's own patients too), not just the fixture's
        e
        for e in Enrollment.objects.filter(patient__program=world.harborview).select_related("patient")
        if e.status in {EnrollmentStatus.ACTIVE, EnrollmentStatus.ONHOLD, EnrollmentStatus.FINISHED}
    ]
    busiest = max(
        {_monday(e.start_date) for e in started}, key=lambda w: sum(_monday(e.start_date) == w for e in started)
    )
    start = today - timedelta(weeks=30)
    url = reverse("reports:drilldown")
    response = client_for(world.dora).get(
        url, {"metric": "admissions", "week": busiest.isoformat(), "start": start.isoformat(), "end": today.isoformat()}
    )
    assert response.status_code == 200
    expected = {e.patient.record_number for e in started if busiest <= e.start_date <= busiest + timedelta(days=6)}
    shown = {row.patient.record_number for row in response.context["rows"]}
    assert shown == expected and expected
    reads = AuditEntry.objects.filter(actor=world.dora, action="read", detail__purpose="dashboard-drilldown")
    assert {entry.patient.record_number for entry in reads} == expected  # type: ignore[union-attr]


def test_census_drilldown_and_track_filter(world: World, program_history, client_for) -> None:
    dora = client_for(world.dora)
    page = dora.get(reverse("reports:dashboard"), {"track": world.track.pk})
    assert [track for track, _count in page.context["census"]] == [world.track]
    today = timezone.localdate().isoformat()
    listing = dora.get(reverse("reports:drilldown"), {"metric": "census", "day": today, "census_track": world.track.pk})
    assert listing.status_code == 200
    assert all(row.track == world.track for row in listing.context["rows"])
    assert len(listing.context["rows"]) == dict(page.context["census"])[world.track]


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-02-30"},
        {"start": "2026-05-01", "end": "2026-01-01"},
        {"start": "2020-01-01", "end": "2026-01-01"},
        {"track": "999999"},
        {"track": "abc"},
    ],
)
def test_bad_filters_are_400_with_a_message(world: World, client_for, params: dict[str, str]) -> None:
    response = client_for(world.dora).get(reverse("reports:dashboard"), params)
    assert response.status_code == 400
    assert b'class="errors"' in response.content or b"error" in response.content


def test_drilldown_refuses_another_programs_track(world: World, client_for) -> None:
    other = Track.objects.create(
        program=world.elsewhere, name="X", slug="x", population=Population.ADULT, focus=Focus.MENTAL_HEALTH
    )
    response = client_for(world.dora).get(reverse("reports:drilldown"), {"metric": "census", "census_track": other.pk})
    assert response.status_code == 400
    assert not AuditEntry.objects.filter(detail__purpose="dashboard-drilldown").exists()


def test_waitlist_attendance_dose_and_overdue_notes_equal_an_independent_count(world: World, client_for) -> None:
    from datetime import datetime

    from openiop.referrals.models import Referral
    from openiop.rooms.models import Attendance
    from openiop.scheduling.models import Session, SessionKind
    from openiop.treatment.models import Note

    today = timezone.localdate()
    for n, (days_ago, status) in enumerate(((3, "new"), (10, "screening"), (20, "consented"), (5, "enrolled"))):
        referral = Referral.objects.create(
            program=world.harborview, reference=f"R-T{n}", source="self", given_name="A", family_name="B",
            date_of_birth=date(1990, 1, 1), concerns="x", status=status,
        )  # fmt: skip
        Referral.objects.filter(pk=referral.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    last_monday = today - timedelta(days=today.weekday() + 7)
    sessions = []
    for day, hours in ((0, 3), (2, 3), (4, 3)):  # three 3-hour groups last week
        start = timezone.make_aware(
            datetime.combine(last_monday + timedelta(days=day), datetime.min.time())
        ) + timedelta(hours=18)
        sessions.append(
            Session.objects.create(
                program=world.harborview,
                kind=SessionKind.GROUP,
                starts_at=start,
                ends_at=start + timedelta(hours=hours),
            )
        )
    now = timezone.now()
    marks = {  # Pat attends all three (9 h: at dose); Quinn attends one and misses two (3 h: below)
        world.pat: ["attended", "late", "attended"],
        world.quinn: ["attended", "absent", "absent"],
    }
    for patient, statuses in marks.items():
        for session, status in zip(sessions, statuses, strict=True):
            seconds = 0 if status == "absent" else 3 * 3600
            Attendance.objects.create(
                session=session, patient=patient, seconds_present=seconds, computed_seconds=seconds,
                status=status, computed_status=status, computed_at=now,
            )  # fmt: skip
    Note.objects.create(session=sessions[0], kind="group", author=world.carla, status="signed")
    Note.objects.create(session=sessions[1], kind="group", author=world.carla, status="draft")

    dora = client_for(world.dora)
    page = dora.get(reverse("reports:dashboard"))
    context = page.context
    assert context["waitlist"].waiting == 3 and context["waitlist"].median_days == 10
    assert context["waitlist"].longest_days == 20
    assert context["attendance_rate"] == round(100 * 4 / 6, 1)
    assert (context["dose_at"], context["dose_total"]) == (1, 2) and context["dose_percent"] == 50.0
    assert context["overdue_notes"] == 2  # the draft and the one with no note; the signed one is done
    care = reverse("reports:care_list")
    below = dora.get(care, {"metric": "below-dose"})
    assert [row.enrollment.patient for row in below.context["below"]] == [world.quinn]
    assert AuditEntry.objects.filter(actor=world.dora, patient=world.quinn, detail__purpose="dashboard-dose").exists()
    missed = dora.get(care, {"metric": "absences", "week": last_monday.isoformat()})
    assert [(row.patient, row.status) for row in missed.context["absences"]] == [(world.quinn, "absent")] * 2
    waiting = dora.get(care, {"metric": "waitlist"})
    assert [r.reference for r, _days in waiting.context["referrals"]] == ["R-T2", "R-T1", "R-T0"]
    notes = dora.get(care, {"metric": "overdue-notes"})
    assert {s.pk for s in notes.context["sessions"]} == {sessions[1].pk, sessions[2].pk}
    assert dora.get(care, {"metric": "nonsense"}).status_code == 400
