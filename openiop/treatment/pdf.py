"""The discharge summary as a printable PDF (reportlab)."""

from __future__ import annotations

from io import BytesIO
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import LETTER  # type: ignore[import-untyped]
from reportlab.lib.styles import getSampleStyleSheet  # type: ignore[import-untyped]
from reportlab.lib.units import inch  # type: ignore[import-untyped]
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer  # type: ignore[import-untyped]

from openiop.treatment.models import DischargeSummary, GoalStatus
from openiop.treatment.queries import plan_in_force


def goals_met(summary: DischargeSummary) -> tuple[int, int, list[tuple[str, str]]]:
    """(achieved, total, [(goal, progress)]) from the plan in force at discharge."""
    plan = plan_in_force(summary.enrollment)
    goals = list(plan.goals.all()) if plan else []
    achieved = sum(1 for goal in goals if goal.status == GoalStatus.ACHIEVED)
    return achieved, len(goals), [(goal.description, goal.get_status_display()) for goal in goals]


def discharge_pdf(summary: DischargeSummary) -> bytes:
    styles = getSampleStyleSheet()
    enrollment = summary.enrollment
    patient = enrollment.patient
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        title=_("Discharge summary"),
        leftMargin=0.9 * inch,
        rightMargin=0.9 * inch,
        topMargin=0.8 * inch,
        bottomMargin=0.8 * inch,
    )
    story: list[object] = []

    def heading(text: str) -> None:
        story.append(Paragraph(escape(text), styles["Heading2"]))

    def line(label: str, value: object) -> None:
        text = escape(str(value)).replace("\n", "<br/>")
        story.append(Paragraph(f"<b>{escape(label)}:</b> {text}", styles["BodyText"]))

    story.append(Paragraph(escape(_("Discharge summary")), styles["Title"]))
    line(_("Patient"), f"{patient.full_name} ({patient.record_number})")
    line(_("Program"), f"{patient.program.name} · {enrollment.track.name}")
    line(_("Dates of care"), f"{enrollment.start_date:%b %d, %Y} – {summary.discharge_date:%b %d, %Y}")
    line(_("Reason for discharge"), summary.get_reason_display())
    heading(_("Care received"))
    line(_("Services received"), summary.services_received)
    line(_("Hours attended"), summary.hours_attended)
    line(_("Change in measures"), summary.measure_change or _("not recorded"))
    achieved, total, goals = goals_met(summary)
    heading(_("Goals"))
    line(_("Goals met"), _("%(achieved)s of %(total)s") % {"achieved": achieved, "total": total})
    for description, progress in goals:
        story.append(Paragraph(f"• {escape(description)} — {escape(progress)}", styles["BodyText"]))
    heading(_("Aftercare plan"))
    line(_("Outpatient therapist"), summary.outpatient_therapist)
    line(_("Support groups"), summary.support_groups or _("none named"))
    line(_("Crisis plan"), summary.crisis_plan)
    story.append(Spacer(1, 12))
    story.append(
        Paragraph(
            escape(
                _(
                    "In a crisis: call or text 988 (Suicide & Crisis Lifeline); Massachusetts Behavioral Health "
                    "Help Line 833-773-2445 (call or text, 24/7); in an emergency call 911."
                )
            ),
            styles["BodyText"],
        )
    )
    line(_("Written by"), f"{summary.written_by.display_name}, {summary.written_at:%b %d, %Y}")
    document.build(story)
    return buffer.getvalue()
