"""The attendance tally (rooms.AttendanceTally) that the dashboard's attendance rate reads is kept by the
database in the same transaction as every write to attendance or to a session's start, whoever writes:
each write shows on the next dashboard request, and the tally always equals a count of the rows."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.models import Program
from openiop.reports import metrics
from openiop.rooms import services as rooms_services
from openiop.rooms.models import Attendance, AttendanceTally
from tests.attendance_fixtures import PRESENT, attend, attendance_by_week, local, make_session, monday, series
from tests.conftest import World

pytestmark = pytest.mark.django_db


def recount() -> dict[tuple[int, datetime], tuple[int, int]]:
    """(program, start) -> (present, expected) counted from every Attendance row."""
    counts: dict[tuple[int, datetime], tuple[int, int]] = {}
    for program_id, starts_at, status in Attendance.objects.values_list(
        "session__program_id", "session__starts_at", "status"
    ):
        present, expected = counts.get((program_id, starts_at), (0, 0))
        counts[(program_id, starts_at)] = (present + (status in PRESENT), expected + (status != "entered-in-error"))
    return {key: value for key, value in counts.items() if value != (0, 0)}


def tally() -> dict[tuple[int, datetime], tuple[int, int]]:
    rows = AttendanceTally.objects.values_list("program_id", "starts_at", "present", "expected")
    return {(program, starts_at): (p, e) for program, starts_at, p, e in rows if (p, e) != (0, 0)}


def dashboard_rate(client: Client, start: date, end: date) -> float | None:
    page = client.get(reverse("reports:dashboard"), {"start": start.isoformat(), "end": end.isoformat()})
    assert page.status_code == 200
    rate: float | None = page.context["attendance_rate"]
    return rate


def independent_rate(program: Program, start: date, end: date) -> float | None:
    weeks = attendance_by_week(program, start, end)
    present, expected = sum(p for p, _e in weeks.values()), sum(e for _p, e in weeks.values())
    return round(100 * present / expected, 1) if expected else None


def test_every_kind_of_write_shows_on_the_next_dashboard_request(world: World, client_for) -> None:
    dora = client_for(world.dora)
    end = timezone.localdate()
    start = end - timedelta(weeks=4)
    week_ago = local(end - timedelta(days=7), 18)
    first = make_session(world.harborview, week_ago)
    second = make_session(world.harborview, week_ago)  # same start: one tally row for both
    pat_first = attend(first, world.pat, "attended")
    quinn_first = attend(first, world.quinn, "absent")
    attend(second, world.pat, "late")

    def check(expected_rate: float | None) -> None:
        assert tally() == recount()
        assert dashboard_rate(dora, start, end) == independent_rate(world.harborview, start, end) == expected_rate

    check(round(100 * 2 / 3, 1))
    # A clinician's correction (the service), then a bulk update that bypasses the model.
    rooms_services.correct_attendance(quinn_first, world.carla, status="partial", minutes=90, reason="was there")
    check(100.0)
    Attendance.objects.filter(pk=pat_first.pk).update(status="entered-in-error")
    check(100.0)  # two of two: the void row no longer expected
    Attendance.objects.filter(pk=pat_first.pk).update(status="absent")
    check(round(100 * 2 / 3, 1))
    # Rows added in bulk (as the demo does) and one deleted.
    Attendance.objects.bulk_create(
        [
            Attendance(
                session=second, patient=world.quinn, status="absent", computed_status="absent",
                computed_at=timezone.now(),
            )
        ]
    )  # fmt: skip
    check(50.0)
    Attendance.objects.filter(session=second, patient=world.quinn).delete()
    check(round(100 * 2 / 3, 1))
    # The session moves to another week: its attendance moves with it, out of the old start's count.
    first.starts_at = local(end - timedelta(days=14), 18)
    first.ends_at = first.starts_at + timedelta(hours=3)
    first.save()
    check(round(100 * 2 / 3, 1))
    weekly = metrics.attendance_per_week(world.harborview, metrics.Filters(start, end))
    assert weekly == series(attendance_by_week(world.harborview, start, end), start, end)
    assert {week for week, _p, e in weekly if e} == {monday(end - timedelta(days=14)), monday(end - timedelta(days=7))}
    # ... and to another program: no longer Harborview's.
    first.program = world.elsewhere
    first.save()
    check(100.0)
    # A write that is rolled back leaves the tally as it was.
    with pytest.raises(RuntimeError), transaction.atomic():
        attend(second, world.quinn, "absent")
        raise RuntimeError("the request failed")
    check(100.0)


def test_the_demo_s_bulk_loaded_attendance_is_counted() -> None:
    call_command("seed_demo", patients=24, seed=3, stdout=StringIO(), stderr=StringIO())
    assert Attendance.objects.exists()
    assert tally() == recount()
