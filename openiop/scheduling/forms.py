"""Forms of the schedule pages, and the week grid of checkboxes the availability pages share."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from openiop.scheduling.problem import BLOCK_HOURS, PART_START_HOUR

DAY_NAMES = (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"))
PART_NAMES = (_("Morning"), _("Afternoon"), _("Evening"))
_PARTS_IN_TEXT = (_("morning"), _("afternoon"), _("evening"))

# one checkbox per (day, part), in day-major order; the value is "day-part", e.g. "2-0" is Wednesday morning
BLOCK_CHOICES = [
    (f"{d}-{p}", format_lazy("{} {}", day, part))
    for d, day in enumerate(DAY_NAMES)
    for p, part in enumerate(_PARTS_IN_TEXT)
]


def part_hours(part: int) -> str:
    start = PART_START_HOUR[part]
    return f"{start}:00–{start + BLOCK_HOURS}:00"


def blocks_of(values: list[str]) -> list[tuple[int, int]]:
    """["2-0", ...] (already validated against BLOCK_CHOICES) -> [(2, 0), ...]."""
    return sorted({(int(v.split("-")[0]), int(v.split("-")[1])) for v in values})


def block_values(blocks: Any) -> list[str]:
    return [f"{d}-{p}" for d, p in (blocks or [])]


def week_rows(field: forms.BoundField) -> list[dict[str, Any]]:
    """The blocks field as rows of a week table: one row per part of the day (with its hours), one checkbox per
    weekday. Django lists the choices day by day; the table reads part by part."""
    boxes = list(field)
    return [
        {"name": PART_NAMES[p], "hours": part_hours(p), "boxes": [boxes[d * len(PART_NAMES) + p] for d in range(5)]}
        for p in range(len(PART_NAMES))
    ]


class BlocksField(forms.MultipleChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Free for sessions"))
        super().__init__(choices=BLOCK_CHOICES, widget=forms.CheckboxSelectMultiple, required=False, **kwargs)


class BuildWeekForm(forms.Form):
    week_start = forms.DateField(label=_("Week starting"), widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.ChoiceField(
        label=_("Solver"),
        choices=[("cp-sat", _("Optimizer (CP-SAT)")), ("greedy", _("Quick greedy (for comparison)"))],
        initial="cp-sat",
    )


class AvailabilityForm(forms.Form):
    """A patient's week (staff edit it for them)."""

    blocks = BlocksField()
    family_sessions = forms.BooleanField(label=_("Treatment plan includes family sessions"), required=False)
    required_hours = forms.IntegerField(
        label=_("Required hours a week (blank: the program's default for their age)"),
        min_value=1,
        max_value=19,
        required=False,
    )


class OwnAvailabilityForm(forms.Form):
    """A clinician's own free blocks. Hours, caseload and adolescents are the director's to decide."""

    blocks = BlocksField(label=_("When you are free to lead groups and see patients"))
    confirm = forms.BooleanField(
        label=_("Save anyway: the next plan gives these groups another time or another facilitator"), required=False
    )


class ClinicianSettingsForm(OwnAvailabilityForm):
    """The director's form for one clinician: free blocks and the scheduler's limits."""

    blocks = BlocksField(label=_("Free to lead groups and see patients"))
    max_hours = forms.IntegerField(
        label=_("Most hours a week"),
        min_value=1,
        max_value=60,
        help_text=_("Groups, individual and family sessions together; 1 to 60."),
        error_messages={
            "min_value": _("At least 1 hour a week (remove all free times instead to take them off the schedule)."),
            "max_value": _("At most 60 hours a week."),
            "required": _("Enter the most hours a week, from 1 to 60."),
            "invalid": _("Enter a whole number of hours, from 1 to 60."),
        },
    )
    max_caseload = forms.IntegerField(
        label=_("Most patients as primary clinician"),
        min_value=0,
        max_value=60,
        help_text=_("0 to 60; 0 means they lead groups but take no individual patients."),
        error_messages={
            "min_value": _("The caseload cannot be negative."),
            "max_value": _("At most 60 patients."),
            "required": _("Enter the largest caseload, from 0 to 60."),
            "invalid": _("Enter a whole number of patients, from 0 to 60."),
        },
    )
    sees_adolescents = forms.BooleanField(label=_("Sees adolescents (13–17)"), required=False)


class MergeGroupsForm(forms.Form):
    source = forms.IntegerField(min_value=1)
    target = forms.IntegerField(min_value=1)
