"""Per-diem billing: the rules for a patient-day, and the export per payer built from real attendance and notes."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.audit.models import AuditEntry
from openiop.intake.models import Patient
from openiop.reports import billing
from openiop.rooms.models import Attendance, AttendanceStatus
from openiop.scheduling.models import Focus, Population, Session, SessionAttendee, SessionKind, Track
from openiop.treatment.models import Note, NoteStatus
from tests.conftest import World, enroll, make_patient

CODES = billing.Codes()


def day(focus: str, *services: tuple[int, bool]) -> billing.PatientDay:
    made = [billing.Service(n, "group", minutes, signed) for n, (minutes, signed) in enumerate(services, start=1)]
    return billing.PatientDay(1, "H-1", date(2026, 11, 23), focus, "MassHealth", made)


@pytest.mark.parametrize(
    ("focus", "services", "billable", "hcpcs", "revenue", "medicare"),
    [
        ("substance-use", [(180, True)], True, "H0015", "0906", ""),
        ("substance-use", [(179, True)], False, "H0015", "0906", ""),  # under 3 hours
        ("co-occurring", [(90, True), (60, True), (45, True)], True, "H0015", "0906", "3"),
        ("mental-health", [(60, True), (60, True), (60, True), (30, True)], True, "S9480", "0905", "4+"),
        ("mental-health", [(60, True)], True, "S9480", "0905", ""),
        ("mental-health", [(200, True), (50, False)], False, "S9480", "0905", ""),  # a note is not signed
        ("mental-health", [(0, False)], False, "S9480", "0905", ""),  # absent: nothing attended
    ],
)
def test_a_patient_day(focus, services, billable, hcpcs, revenue, medicare) -> None:
    result = billing.evaluate(day(focus, *services), CODES)
    assert (result.billable, result.hcpcs, result.revenue_code, result.medicare_class) == (
        billable,
        hcpcs,
        revenue,
        medicare,
    )
    assert bool(result.reasons) is not billable


def test_a_day_without_a_signed_note_is_never_billable_whatever_else_holds() -> None:
    result = billing.evaluate(day("substance-use", (240, True), (60, False), (60, True), (60, True)), CODES)
    assert not result.billable and result.medicare_class == "4+"
    assert result.reasons == ["no signed note for session 2"]


def held(world: World, patient: Patient, when: datetime, minutes: int, *, signed: bool, present: int) -> Session:
    session = Session.objects.create(
        program=world.harborview, kind=SessionKind.GROUP, starts_at=when, ends_at=when + timedelta(minutes=minutes)
    )
    session.clinicians.add(world.carla)
    SessionAttendee.objects.create(session=session, patient=patient)
    status = NoteStatus.SIGNED if signed else NoteStatus.DRAFT
    Note.objects.create(session=session, kind="group", author=world.carla, status=status)
    Attendance.objects.create(
        session=session, patient=patient, seconds_present=present * 60, computed_seconds=present * 60,
        status=AttendanceStatus.ATTENDED if present else AttendanceStatus.ABSENT,
        computed_status=AttendanceStatus.ATTENDED if present else AttendanceStatus.ABSENT, computed_at=timezone.now(),
    )  # fmt: skip
    return session


def test_the_export_per_payer_from_attendance_and_notes(world: World, client_for) -> None:
    mh = Track.objects.create(
        program=world.harborview, name="MH", slug="mh", population=Population.ADULT, focus=Focus.MENTAL_HEALTH
    )
    mia = make_patient(world.harborview, "H-9", None, "Mia")
    enroll(mia, mh)
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday() + 7)

    def at(d: int, h: int) -> datetime:
        return timezone.make_aware(
            datetime.combine(monday + timedelta(days=d), datetime.min.time()) + timedelta(hours=h)
        )

    held(world, world.pat, at(0, 9), 180, signed=True, present=180)  # Pat Monday: 3 h, signed -> billable
    held(world, world.pat, at(1, 9), 180, signed=True, present=120)  # Tuesday: 2 h -> under 3 h
    held(world, world.pat, at(2, 9), 180, signed=False, present=180)  # Wednesday: note unsigned
    for hour in (9, 10, 11):
        held(world, mia, at(0, hour), 60, signed=True, present=55)  # Mia Monday: 3 services
    held(world, mia, at(1, 9), 60, signed=True, present=0)  # Mia Tuesday: absent
    dora = client_for(world.dora)
    period = {"start": monday.isoformat(), "end": (monday + timedelta(days=6)).isoformat()}
    page = dora.get(reverse("reports:billing"), period)
    assert page.status_code == 200
    assert [(payer, days, billable) for payer, days, billable, _q in page.context["payers"]] == [
        ("Unknown payer", 5, 2)
    ]
    csv_response = dora.get(reverse("reports:billing_csv"), period | {"payer": "Unknown payer"})
    assert csv_response.status_code == 200
    rows = {(r["record_number"], r["date"]): r for r in csv.DictReader(io.StringIO(csv_response.content.decode()))}
    pat_monday = rows[("H-1", monday.isoformat())]
    assert (pat_monday["billable"], pat_monday["hcpcs"], pat_monday["revenue_code"], pat_monday["minutes"]) == (
        "yes", "H0015", "0906", "180",
    )  # fmt: skip
    assert rows[("H-1", (monday + timedelta(days=1)).isoformat())]["billable"] == "no"
    assert "signed note" in rows[("H-1", (monday + timedelta(days=2)).isoformat())]["not_billable_because"]
    mia_monday = rows[("H-9", monday.isoformat())]
    assert (mia_monday["billable"], mia_monday["hcpcs"], mia_monday["medicare_class"], mia_monday["services"]) == (
        "yes", "S9480", "3", "3",
    )  # fmt: skip
    assert rows[("H-9", (monday + timedelta(days=1)).isoformat())]["billable"] == "no"
    assert "Example" not in csv_response.content.decode()  # record numbers, not names
    reads = AuditEntry.objects.filter(actor=world.dora, detail__purpose="billing")
    assert {entry.patient_id for entry in reads} == {world.pat.pk, mia.pk}
    assert dora.get(reverse("reports:billing_csv"), period).status_code == 400  # which payer?
    assert dora.get(reverse("reports:billing"), {"start": "2026-02-31"}).status_code == 400
