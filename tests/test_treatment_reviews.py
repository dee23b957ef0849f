"""Progress reviews change the planned end date; discharge writes a summary, a PDF with the right figures and
two follow-up check-ins; a check-in answered "I need help" raises a safety alert."""

from __future__ import annotations

import base64
import re
import zlib
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from openiop.audit.models import AuditEntry
from openiop.intake.models import EnrollmentStatus
from openiop.safety.models import SafetyAlert
from openiop.treatment.models import CheckIn, DischargeSummary, Goal, GoalStatus, PlanStatus, ProgressReview
from openiop.treatment.rules import names_mentioned, new_planned_end, redact_names, review_weeks_due
from tests.conftest import World
from tests.treatment_fixtures import plan_of


def pdf_text(data: bytes) -> str:
    """The text shown in a reportlab PDF: every content stream, inflated, its (string) Tj operands joined."""
    assert data.startswith(b"%PDF")
    chunks = []
    for filters, stream in re.findall(rb"/Filter \[?([^\]>]*)\]?.*?stream\r?\n(.*?)\s*endstream", data, re.DOTALL):
        if b"ASCII85Decode" in filters:
            stream = base64.a85decode(stream.strip().removesuffix(b"~>"))
        if b"FlateDecode" in filters:
            stream = zlib.decompress(stream)
        chunks.append(stream)
    strings = re.findall(rb"\((.*?)(?<!\\)\)\s*Tj", b"\n".join(chunks))
    return " ".join(s.decode("latin-1").replace("\\(", "(").replace("\\)", ")") for s in strings)


def test_extend_decision_moves_the_planned_end_and_is_kept(world: World, client_for) -> None:
    enrollment = world.pat.enrollments.get()
    before = enrollment.planned_end_date
    carla = client_for(world.carla)
    page = carla.get(reverse("treatment:progress_review", args=[world.pat.pk])).content.decode()
    assert "0.0 hours attended over" in page and "No questionnaires answered during this episode" in page

    # An extension needs a reason: 400 and nothing changes.
    response = carla.post(
        reverse("treatment:progress_review", args=[world.pat.pk]), {"week": 4, "decision": "extend", "extend_weeks": 2}
    )
    assert response.status_code == 400 and "reason" in response.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.planned_end_date == before and not ProgressReview.objects.exists()

    response = carla.post(
        reverse("treatment:progress_review", args=[world.pat.pk]),
        {"week": 4, "decision": "extend", "extend_weeks": 2, "reason": "Still drinking most weekends."},
    )
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.planned_end_date == before + timedelta(weeks=2)
    review = ProgressReview.objects.get()
    assert (review.previous_planned_end, review.new_planned_end) == (before, before + timedelta(weeks=2))
    assert review.decided_by == world.carla and review.reason == "Still drinking most weekends."
    assert AuditEntry.objects.filter(record_type="treatment.progressreview", detail__decision="extend").exists()


def test_step_down_sets_the_planned_end_to_the_date_given(world: World, client_for) -> None:
    enrollment = world.pat.enrollments.get()
    day = timezone.localdate() + timedelta(days=5)
    response = client_for(world.carla).post(
        reverse("treatment:progress_review", args=[world.pat.pk]),
        {"week": 4, "decision": "step-down", "effective": day.isoformat(), "reason": "Goals met early"},
    )
    assert response.status_code == 302  # on to the discharge summary
    assert response["Location"] == reverse("treatment:discharge", args=[world.pat.pk])
    enrollment.refresh_from_db()
    assert enrollment.planned_end_date == day


def test_progress_review_is_on_the_to_do_at_week_four(world: World, client_for) -> None:
    carla = client_for(world.carla)
    enrollment = world.pat.enrollments.get()
    enrollment.start_date = timezone.localdate() - timedelta(weeks=3) + timedelta(days=1)  # week 3 of care
    enrollment.save()
    assert "Week 4 progress review" not in carla.get(reverse("caseload")).content.decode()
    enrollment.start_date = timezone.localdate() - timedelta(weeks=3)  # first day of week 4
    enrollment.save()
    assert "Week 4 progress review: Pat Example, H-1" in carla.get(reverse("caseload")).content.decode()
    carla.post(reverse("treatment:progress_review", args=[world.pat.pk]), {"week": 4, "decision": "continue"})
    assert "Week 4 progress review" not in carla.get(reverse("caseload")).content.decode()


def test_discharge_writes_summary_pdf_with_the_figures_and_schedules_check_ins(world: World, client_for) -> None:
    plan = plan_of(world, "pat")
    plan.status = PlanStatus.ACTIVE
    plan.save()
    Goal.objects.create(
        plan=plan, description="Sleep 7 hours", target_date=plan.enrollment.planned_end_date, measured_by="diary",
        status=GoalStatus.ACHIEVED,
    )  # fmt: skip
    Goal.objects.create(
        plan=plan, description="Return to work", target_date=plan.enrollment.planned_end_date, measured_by="self",
        status=GoalStatus.ACHIEVED,
    )  # fmt: skip
    carla = client_for(world.carla)
    today = timezone.localdate()
    response = carla.post(
        reverse("treatment:discharge", args=[world.pat.pk]),
        {
            "reason": "completed",
            "discharge_date": today.isoformat(),
            "services_received": "Group therapy 3 evenings a week; 8 individual sessions",
            "hours_attended": "87.5",
            "measure_change": "PHQ-9 from 17 to 6",
            "outpatient_therapist": "Dr. Rivera, Harbor Counseling",
            "support_groups": "SMART Recovery Tuesdays",
            "crisis_plan": "Call my brother, then 988",
        },
    )
    summary = DischargeSummary.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("treatment:discharge_pdf", args=[summary.pk])
    enrollment = world.pat.enrollments.get()
    assert enrollment.status == EnrollmentStatus.FINISHED and enrollment.end_date == today
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED
    assert sorted(CheckIn.objects.values_list("days_after", "due_date")) == [
        (7, today + timedelta(days=7)),
        (30, today + timedelta(days=30)),
    ]

    # Shared with the patient: in the portal and as PDF.
    pdf = client_for(world.pat_user).get(reverse("treatment:discharge_pdf", args=[summary.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    for expected in (
        "Discharge summary",
        "Pat Example (H-1)",
        "Completed the program",
        "87.5",
        "PHQ-9 from 17 to 6",
        "2 of 3",  # two of the three goals achieved
        "Dr. Rivera, Harbor Counseling",
        "SMART Recovery Tuesdays",
        "Call my brother, then 988",
        "833-773-2445",
    ):
        assert expected in text, expected
    assert "Quinn" not in text
    portal = client_for(world.pat_user).get(reverse("treatment:my_treatment")).content.decode()
    assert "Hours attended: 87.5." in portal and "Goals met: 2 of 3." in portal

    # A second discharge is not possible.
    assert carla.get(reverse("treatment:discharge", args=[world.pat.pk])).status_code == 302


def test_check_in_yes_raises_a_safety_alert_and_shows_crisis_resources(world: World, client_for) -> None:
    from tests.treatment_fixtures import check_in_of

    check_in = check_in_of(world, "pat")
    pat = client_for(world.pat_user)
    response = pat.post(
        reverse("treatment:my_check_in", args=[check_in.pk]), {"how_are_you": "Rough week", "needs_help": "yes"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "988" in page and "833-773-2445" in page and "911" in page
    alert = SafetyAlert.objects.get()
    assert alert.source == "check-in" and alert.patient == world.pat
    assert world.carla in alert.notified.all()
    check_in.refresh_from_db()
    assert check_in.needs_help is True and check_in.answered_at is not None
    # Back on the intake board as a new referral, for the intake coordinator to call back.
    from openiop.referrals.models import Referral

    referral = Referral.objects.get(source="check-in")
    assert referral.status == "new" and referral.date_of_birth == world.pat.date_of_birth
    assert f"{check_in.days_after}-day follow-up" in referral.concerns
    # Answered once only.
    again = pat.post(reverse("treatment:my_check_in", args=[check_in.pk]), {"needs_help": "yes"})
    assert again.status_code == 400 and SafetyAlert.objects.count() == 1 and Referral.objects.count() == 1


def test_check_in_no_raises_nothing(world: World, client_for) -> None:
    from tests.treatment_fixtures import check_in_of

    check_in = check_in_of(world, "pat")
    client_for(world.pat_user).post(reverse("treatment:my_check_in", args=[check_in.pk]), {"needs_help": "no"})
    assert not SafetyAlert.objects.exists()
    check_in.refresh_from_db()
    assert check_in.needs_help is False


def test_rules() -> None:
    day = timezone.localdate()
    assert new_planned_end("continue", current_end=day, effective=day - timedelta(days=3)) == day
    assert new_planned_end("extend", current_end=day, effective=day, extend_weeks=3) == day + timedelta(weeks=3)
    assert new_planned_end("discharge", current_end=day, effective=day - timedelta(days=3)) == day - timedelta(days=3)
    assert review_weeks_due(9, [4, 8, 10, 12], [4]) == [8]
    assert review_weeks_due(None, [4], []) == []
    assert names_mentioned("Saw QUINN and Patrick", ["Quinn", "Pat", "Al"]) == ["Quinn"]
    assert redact_names("Ann Lee and Ann spoke; Annie too", ["Ann", "Ann Lee"], "[x]") == "[x] and [x] spoke; Annie too"


def test_due_check_ins_are_reminded_once_by_email_without_clinical_details(world: World) -> None:
    from io import StringIO

    from django.core.management import call_command

    from openiop.outbox.models import OutboxMessage
    from tests.treatment_fixtures import check_in_of

    check_in = check_in_of(world, "pat")  # due today
    later = CheckIn.objects.create(
        discharge=check_in.discharge, days_after=30, due_date=timezone.localdate() + timedelta(days=23)
    )
    out = StringIO()
    call_command("remind_check_ins", stdout=out)
    assert "1 reminded" in out.getvalue()
    message = OutboxMessage.objects.get(purpose="check-in")
    assert message.to_address == "pat@example.org"
    assert reverse("treatment:my_check_in", args=[check_in.pk]) in message.body  # not sent yet: body kept
    assert "Pat" not in message.body and "discharge" not in message.body.lower()
    check_in.refresh_from_db()
    later.refresh_from_db()
    assert check_in.reminded_at is not None and later.reminded_at is None

    call_command("remind_check_ins", stdout=StringIO())  # a second run sends nothing more
    assert OutboxMessage.objects.filter(purpose="check-in").count() == 1


def test_the_review_shows_measure_change_during_the_episode(world: World, client_for) -> None:
    from openiop.measures import services as measures

    enrollment = world.pat.enrollments.get()
    phq9 = measures.builtin_questionnaire("phq9")
    options = phq9.parsed().by_link_id()
    for values in ([3, 3, 3, 3, 3, 2, 2, 1, 0], [1, 1, 1, 1, 1, 1, 1, 1, 0]):  # 20, then 8
        measures.submit_response(
            questionnaire=phq9,
            patient=world.pat,
            actor=world.pat_user,
            enrollment=enrollment,
            answers={str(n): options[str(n)].options[value] for n, value in enumerate(values, start=1)},
        )
    carla = client_for(world.carla)
    page = carla.get(reverse("treatment:progress_review", args=[world.pat.pk])).content.decode()
    row = page[page.index("PHQ-9") :].split("</tr>")[0]
    assert ">20<" in row and ">8<" in row
    assert "reliable improvement" in row and "response (50% lower)" in row and "remission" not in row
    # The discharge form starts from the same figures.
    discharge = carla.get(reverse("treatment:discharge", args=[world.pat.pk]))
    assert discharge.context["form"].initial["measure_change"] == "PHQ-9: 20 → 8 (reliable improvement, response)"


def test_hours_attended_come_from_attendance_in_the_rooms(world: World, client_for) -> None:
    from datetime import datetime, timedelta

    from openiop.rooms.models import Attendance
    from openiop.scheduling.models import Session, SessionKind

    enrollment = world.pat.enrollments.get()
    for days, minutes, status in ((1, 180, "attended"), (2, 150, "late"), (3, 0, "absent")):
        start = timezone.make_aware(datetime.combine(enrollment.start_date + timedelta(days=days), datetime.min.time()))
        session = Session.objects.create(
            program=world.harborview, kind=SessionKind.GROUP, starts_at=start, ends_at=start + timedelta(hours=3)
        )
        Attendance.objects.create(
            session=session, patient=world.pat, seconds_present=minutes * 60, computed_seconds=minutes * 60,
            status=status, computed_status=status, computed_at=timezone.now(),
        )  # fmt: skip
    page = client_for(world.carla).get(reverse("treatment:progress_review", args=[world.pat.pk])).content.decode()
    assert "5.5 hours attended over" in page  # 180 + 150 minutes; the absence counts nothing
    discharge = client_for(world.carla).get(reverse("treatment:discharge", args=[world.pat.pk]))
    assert str(discharge.context["form"].initial["hours_attended"]) == "5.5"


def test_a_follow_up_check_in_offers_the_who5_and_phq9_and_item_9_still_reaches_a_clinician(
    world: World, client_for
) -> None:
    from openiop.measures.models import MeasureResponse
    from tests.treatment_fixtures import check_in_of

    check_in = check_in_of(world, "pat")
    pat = client_for(world.pat_user)
    page = pat.get(reverse("treatment:my_check_in", args=[check_in.pk])).content.decode()
    who5, phq9 = reverse("measures:fill", kwargs={"slug": "who5"}), reverse("measures:fill", kwargs={"slug": "phq9"})
    assert who5 in page and phq9 in page
    assert pat.get(who5).status_code == 200
    answered = pat.post(phq9, {f"q{n}": "1" for n in range(1, 9)} | {"q9": "2"})
    assert answered.status_code == 302
    response = MeasureResponse.objects.get(patient=world.pat)
    assert response.total == 10 and response.enrollment == check_in.discharge.enrollment
    alert = SafetyAlert.objects.get(patient=world.pat)
    assert world.carla in alert.notified.all()
