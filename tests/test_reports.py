"""The director's dashboard: figures equal an independent computation, charts drill down, input is checked."""

from __future__ import annotations

import random
import statistics
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.audit.models import AuditEntry
from openiop.intake.models import Enrollment, EnrollmentStatus, Patient
from openiop.referrals.models import Referral
from openiop.reports import charts, metrics
from openiop.rooms.models import Attendance
from openiop.scheduling.models import Focus, Population, Track
from tests.attendance_fixtures import attend, attendance_by_week, local, make_session, monday, series
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


# --- figures at the edges: local days and weeks, tracks, thresholds -------------------------------------------


def _period() -> tuple[date, date]:
    """Three whole weeks ending last Sunday."""
    end = _monday(timezone.localdate()) - timedelta(days=1)
    return end - timedelta(days=20), end


def test_attendance_per_week_counts_local_days_and_each_track_once_per_patient(world: World, client_for) -> None:
    start, end = _period()
    mh = Track.objects.create(
        program=world.harborview, name="Adult MH", slug="mh", population=Population.ADULT, focus=Focus.MENTAL_HEALTH
    )
    mia = make_patient(world.harborview, "H-M1", None, "Mia")
    Enrollment.objects.create(
        patient=mia, track=mh, status=EnrollmentStatus.ACTIVE, start_date=start, planned_end_date=end + timedelta(1)
    )
    # Pat came back: a second, earlier episode in the same track must not count her attendance twice.
    Enrollment.objects.create(
        patient=world.pat, track=world.track, status=EnrollmentStatus.FINISHED,
        start_date=start - timedelta(weeks=20), planned_end_date=start - timedelta(weeks=10),
        end_date=start - timedelta(weeks=10),
    )  # fmt: skip
    # Quinn was once entered in the MH track by mistake: that episode does not put him in it.
    Enrollment.objects.create(
        patient=world.quinn, track=mh, status=EnrollmentStatus.ENTERED_IN_ERROR, start_date=start,
        planned_end_date=end,
    )  # fmt: skip
    sunday = start + timedelta(days=6)
    sessions = {
        "day before, late evening": make_session(world.harborview, local(start - timedelta(days=1), 23, 30)),
        "first day, just after midnight": make_session(world.harborview, local(start, 0, 30)),
        "first Sunday, late evening": make_session(world.harborview, local(sunday, 23, 30)),
        "second Monday, just after midnight": make_session(world.harborview, local(sunday + timedelta(1), 0, 30)),
        "slot shared A": make_session(world.harborview, local(start + timedelta(days=9), 18)),
        "slot shared B": make_session(world.harborview, local(start + timedelta(days=9), 18)),
        "last day, late evening": make_session(world.harborview, local(end, 23, 30)),
        "day after, just after midnight": make_session(world.harborview, local(end + timedelta(1), 0, 30)),
    }
    statuses = ["attended", "late", "partial", "absent", "entered-in-error"]
    for n, session in enumerate(sessions.values()):
        attend(session, world.pat, statuses[n % 5])
        attend(session, world.quinn, statuses[(n + 1) % 5])
        attend(session, mia, statuses[(n + 2) % 5])
    elsewhere = make_session(world.elsewhere, local(start + timedelta(days=2), 18))
    attend(elsewhere, world.olga, "attended")

    for track in (None, world.track, mh):
        filters = metrics.Filters(start, end, track)
        expected = series(attendance_by_week(world.harborview, start, end, track), start, end)
        assert metrics.attendance_per_week(world.harborview, filters) == expected
        present = sum(p for _w, p, _e in expected)
        total = sum(e for _w, _p, e in expected)
        params = {"start": start.isoformat(), "end": end.isoformat()} | ({"track": track.pk} if track else {})
        page = client_for(world.dora).get(reverse("reports:dashboard"), params)
        assert page.context["attendance_rate"] == round(100 * present / total, 1)
    # Worked out by hand: the sessions either side of the period and of a week fall on their local day.
    assert metrics.attendance_per_week(world.harborview, metrics.Filters(start, end)) == [
        (start, 3, 5),
        (start + timedelta(weeks=1), 6, 7),
        (start + timedelta(weeks=2), 2, 3),
    ]


def test_weekly_dose_counts_whole_weeks_on_local_time_and_each_population_s_minimum(
    world: World, client_for, settings
) -> None:
    settings.IOP_MIN_HOURS_ADULT, settings.IOP_MIN_HOURS_ADOLESCENT = 9, 6
    teens = Track.objects.create(
        program=world.harborview, name="Teens", slug="teens", population=Population.ADOLESCENT,
        focus=Focus.MENTAL_HEALTH,
    )  # fmt: skip
    today = timezone.localdate()
    week = monday(today) - timedelta(weeks=1)  # the last full week
    sunday = week + timedelta(days=6)

    def teen(number: str, start: date) -> Patient:
        patient = make_patient(world.harborview, number, None, number)
        Enrollment.objects.create(
            patient=patient, track=teens, status=EnrollmentStatus.ACTIVE, start_date=start,
            planned_end_date=start + timedelta(weeks=10),
        )  # fmt: skip
        return patient

    ada, ben = teen("H-T1", week - timedelta(weeks=2)), teen("H-T2", week - timedelta(weeks=2))
    late_starter = teen("H-T3", week + timedelta(days=2))  # not in treatment the whole week: not counted
    monday_group = make_session(world.harborview, local(week, 18))
    wednesday_group = make_session(world.harborview, local(week + timedelta(2), 18))
    sunday_late = make_session(world.harborview, local(sunday, 23, 30))  # still the week, on local time
    next_monday_early = make_session(world.harborview, local(sunday + timedelta(1), 0, 30))
    last_sunday_late = make_session(world.harborview, local(week - timedelta(1), 23, 30))
    for session in (monday_group, wednesday_group, sunday_late):
        attend(session, world.pat, "attended")  # 9 h: an adult at the minimum
    attend(monday_group, world.quinn, "attended")
    attend(wednesday_group, world.quinn, "late")
    attend(sunday_late, world.quinn, "entered-in-error")  # does not count: 6 h, below
    attend(monday_group, ada, "attended")
    attend(sunday_late, ada, "partial")  # 6 h: an adolescent at the minimum
    attend(monday_group, ben, "attended")
    attend(next_monday_early, ben, "attended")  # the next week
    attend(last_sunday_late, ben, "attended")  # the week before: 3 h, below
    attend(monday_group, late_starter, "attended", hours=3)
    attend(wednesday_group, late_starter, "attended", hours=3)
    olga_group = make_session(world.elsewhere, local(week, 18), hours=9)
    attend(olga_group, world.olga, "attended", hours=9)  # another program

    # Independently: every episode in treatment from Monday to Sunday, and each one's attended hours.
    since, until = local(week, 0), local(sunday + timedelta(1), 0)
    in_treatment = {
        (e.patient_id, e.track.population)
        for e in Enrollment.objects.filter(patient__program=world.harborview).select_related("track")
        if e.status in {"active", "onhold", "finished"}
        and e.start_date <= week
        and (e.end_date is None or e.end_date >= sunday)
    }
    seconds: dict[int, int] = {}
    for row in Attendance.objects.filter(session__program=world.harborview).select_related("session"):
        if since <= row.session.starts_at < until and row.status in {"attended", "late", "partial"}:
            seconds[row.patient_id] = seconds.get(row.patient_id, 0) + row.seconds_present
    at_dose = sum(
        seconds.get(patient_id, 0) >= 3600 * (6 if population == "adolescent" else 9)
        for patient_id, population in in_treatment
    )
    page = client_for(world.dora).get(reverse("reports:dashboard"))
    assert (page.context["dose_total"], page.context["dose_at"]) == (len(in_treatment), at_dose)
    assert (len(in_treatment), at_dose) == (4, 2)  # Pat, Quinn, Ada, Ben; Pat and Ada at their minimum


def test_waiting_list_median_of_an_even_list_and_local_days(world: World, client_for) -> None:
    today = timezone.localdate()
    made = [
        (local(today - timedelta(days=3), 0, 15), "new"),
        (local(today - timedelta(days=8), 23, 45), "screening"),  # the next UTC day, still 8 days here
        (local(today - timedelta(days=8), 0, 5), "recommended"),
        (local(today - timedelta(days=30), 12), "consented"),
        (local(today - timedelta(days=60), 12), "enrolled"),  # no longer waiting
        (local(today - timedelta(days=90), 12), "declined"),
    ]
    for n, (created, status) in enumerate(made):
        referral = Referral.objects.create(
            program=world.harborview, reference=f"R-W{n}", source="self", given_name="A", family_name="B",
            date_of_birth=date(1990, 1, 1), concerns="x", status=status,
        )  # fmt: skip
        Referral.objects.filter(pk=referral.pk).update(created_at=created)
    other = Referral.objects.create(
        program=world.elsewhere, reference="R-E", source="self", given_name="A", family_name="B",
        date_of_birth=date(1990, 1, 1), concerns="x", status="new",
    )  # fmt: skip
    Referral.objects.filter(pk=other.pk).update(created_at=local(today - timedelta(days=400), 12))
    days = [
        (today - timezone.localtime(r.created_at).date()).days
        for r in Referral.objects.filter(
            program=world.harborview, status__in=["new", "screening", "recommended", "consented"]
        )
    ]
    waiting = client_for(world.dora).get(reverse("reports:dashboard")).context["waitlist"]
    assert (waiting.waiting, waiting.median_days, waiting.longest_days) == (
        len(days),
        statistics.median(days),
        max(days),
    )
    assert (waiting.waiting, waiting.median_days, waiting.longest_days) == (4, 8.0, 30)


def test_admissions_and_discharges_per_week_equal_an_independent_count(world: World, program_history) -> None:
    today = timezone.localdate()
    for start, track in ((today - timedelta(weeks=12), None), (today - timedelta(weeks=26), world.track)):
        filters = metrics.Filters(start, today, track)
        episodes = [
            e
            for e in Enrollment.objects.filter(patient__program=world.harborview)
            if track is None or e.track_id == track.pk
        ]
        for field, rows, wanted in (
            ("start_date", metrics.admissions(world.harborview, filters), {"active", "onhold", "finished"}),
            ("end_date", metrics.discharges(world.harborview, filters), {"finished"}),
        ):
            counted: dict[date, int] = {}
            for e in episodes:
                day = getattr(e, field)
                if e.status in wanted and day is not None and start <= day <= today:
                    counted[_monday(day)] = counted.get(_monday(day), 0) + 1
            expected = [(week, counted.get(week, 0)) for week in metrics.weeks(filters)]
            assert metrics.per_week(rows, field, filters) == expected
            assert sum(counted.values()) > 0
