from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openiop.accounts.models import Program
from openiop.scheduling.models import Track

MAX_DAYS = 2 * 366


class DashboardFilterForm(forms.Form):
    track = forms.ModelChoiceField(
        label=_("Track"), queryset=Track.objects.none(), required=False, empty_label=_("All tracks")
    )
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, program: Program, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["track"].queryset = Track.objects.filter(program=program).order_by("name")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        end: date = data.get("end") or today
        start: date = data.get("start") or end - timedelta(weeks=12)
        if start > end:
            raise forms.ValidationError(_("“From” must be on or before “To”."))
        if (end - start).days > MAX_DAYS:
            raise forms.ValidationError(_("Choose a period of two years or less."))
        data["start"], data["end"] = start, end
        return data


class DrillDownForm(DashboardFilterForm):
    metric = forms.ChoiceField(
        choices=[("census", "census"), ("admissions", "admissions"), ("discharges", "discharges")]
    )
    week = forms.DateField(required=False)
    day = forms.DateField(required=False)


class CareListForm(DashboardFilterForm):
    metric = forms.ChoiceField(
        choices=[
            ("waitlist", "waitlist"),
            ("absences", "absences"),
            ("below-dose", "below-dose"),
            ("overdue-notes", "overdue-notes"),
        ]
    )
    week = forms.DateField(required=False)
