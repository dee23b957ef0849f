"""The outcome report as CSV and PDF: the same rows as the page, nothing about any one person."""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from openiop.reports.billing import BilledDay
from openiop.reports.metrics import OutcomeReport
from openiop.reports.outcomes import Shown

SUPPRESSED = "<11"


def _number(shown: Shown | None, *, percent: bool = False, digits: int = 1) -> tuple[str, str]:
    """(estimate, "low to high") as text; suppressed or missing figures are marked."""
    if shown is None:
        return "n/a", ""
    if shown.suppressed:
        return SUPPRESSED, ""
    if shown.interval is None:
        return ("" if shown.count is None else str(shown.count)), ""
    scale = 100 if percent else 1
    estimate = f"{shown.interval.estimate * scale:.{digits}f}{'%' if percent else ''}"
    return estimate, f"{shown.interval.low * scale:.{digits}f} to {shown.interval.high * scale:.{digits}f}"


def rows(report: OutcomeReport) -> list[tuple[str, str, str, str]]:
    """(figure, value, 95% CI, based on) for every line of the report."""
    out = [
        (_("Admitted"), report.admitted.text or "0", "", ""),
        (_("Discharged"), report.discharged.text or "0", "", ""),
        (_("Completed the program"), *_number(report.completion, percent=True), _("discharges with a summary")),
        (_("Mean hours attended"), *_number(report.mean_hours), _("discharges with a summary")),
    ]
    for measure in report.measures:
        people = measure.people.text or "0"
        out.append((_("%(m)s: people with intake and discharge scores") % {"m": measure.instrument}, people, "", ""))
        out.append((_("%(m)s: mean change") % {"m": measure.instrument}, *_number(measure.change), people))
        out.append(
            (_("%(m)s: reliable improvement") % {"m": measure.instrument},
             *_number(measure.reliable_improvement, percent=True), people)
        )  # fmt: skip
        if measure.response is not None:
            out.append((_("%(m)s: response (50%% lower)") % {"m": measure.instrument},
                        *_number(measure.response, percent=True), people))  # fmt: skip
        if measure.remission is not None:
            out.append((_("%(m)s: remission") % {"m": measure.instrument},
                        *_number(measure.remission, percent=True), people))  # fmt: skip
    return out


def to_csv(report: OutcomeReport, program_name: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([program_name, report.filters.start.isoformat(), report.filters.end.isoformat(),
                     report.filters.track.name if report.filters.track else _("All tracks")])  # fmt: skip
    writer.writerow([_("Figure"), _("Value"), _("95% confidence interval"), _("Based on")])
    writer.writerows(rows(report))
    writer.writerow([_("Counts from 1 to 10, and rates built on them, are suppressed (shown as <11).")])
    return buffer.getvalue()


def to_pdf(report: OutcomeReport, program_name: str) -> bytes:
    buffer = io.BytesIO()
    styles = getSampleStyleSheet()
    doc = SimpleDocTemplate(buffer, pagesize=letter, title=_("Outcome report"), author="OpenIOP")
    period = f"{report.filters.start:%b %d, %Y} - {report.filters.end:%b %d, %Y}"
    track = report.filters.track.name if report.filters.track else _("All tracks")
    table = Table([[_("Figure"), _("Value"), _("95% CI"), _("Based on")], *rows(report)], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef2")),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
            ]
        )
    )
    doc.build(
        [
            Paragraph(_("Outcome report: %(program)s") % {"program": program_name}, styles["Title"]),
            Paragraph(f"{period} · {track}", styles["Normal"]),
            Spacer(1, 12),
            table,
            Spacer(1, 12),
            Paragraph(
                _(
                    "De-identified. Admitted: episodes that started in the period. The other figures describe "
                    "episodes discharged in the period; change is from the first to the last score of the episode. "
                    "Counts from 1 to 10, and rates built on them, are suppressed (shown as <11)."
                ),
                styles["Normal"],
            ),
        ]
    )
    return buffer.getvalue()


BILLING_COLUMNS = ("payer", "record_number", "date", "services", "minutes", "billable", "hcpcs", "revenue_code",
                   "medicare_class", "not_billable_because")  # fmt: skip


def billing_csv(days: list[BilledDay]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(BILLING_COLUMNS)
    for billed in days:
        writer.writerow(
            [billed.day.payer, billed.day.record_number, billed.day.day.isoformat(), billed.services, billed.minutes,
             "yes" if billed.billable else "no", billed.hcpcs, billed.revenue_code, billed.medicare_class,
             "; ".join(billed.reasons)]
        )  # fmt: skip
    return buffer.getvalue()
