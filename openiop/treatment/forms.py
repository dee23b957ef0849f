from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from openiop.scheduling.models import SessionKind
from openiop.treatment.models import Decision, DischargeReason, GoalStatus, Note

TEXT = forms.Textarea(attrs={"rows": 3})


class PlanForm(forms.Form):
    problems = forms.CharField(label=_("Problems (one per line)"), widget=TEXT, max_length=5000)
    patient_words = forms.CharField(label=_("In the patient's own words"), widget=TEXT, max_length=5000, required=False)


class GoalForm(forms.Form):
    problem = forms.CharField(label=_("Problem it addresses"), max_length=300, required=False)
    description = forms.CharField(label=_("Goal"), max_length=300)
    target_date = forms.DateField(label=_("Target date"), widget=forms.DateInput(attrs={"type": "date"}))
    measured_by = forms.CharField(label=_("How progress is measured"), max_length=300)
    objectives = forms.CharField(label=_("Objectives (one per line)"), widget=TEXT, max_length=3000, required=False)
    group_sessions = forms.BooleanField(label=_("Served by group therapy"), required=False)
    module = forms.ChoiceField(label=_("Curriculum module for the group work"), required=False)
    individual_sessions = forms.BooleanField(label=_("Served by individual therapy"), required=False)
    family_sessions = forms.BooleanField(label=_("Served by family sessions"), required=False)
    intervention_detail = forms.CharField(label=_("What happens in those sessions"), max_length=300, required=False)

    def __init__(self, *args: Any, modules: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        module_field = self.fields["module"]
        assert isinstance(module_field, forms.ChoiceField)
        module_field.choices = [("", _("(none)")), *(modules or [])]


class GoalStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Progress"), choices=GoalStatus.choices)


class ModuleForm(forms.Form):
    slug = forms.SlugField(label=_("Short name"), max_length=100)
    title = forms.CharField(label=_("Title"), max_length=200)
    objectives = forms.CharField(label=_("Objectives (one per line)"), widget=TEXT, max_length=3000)
    outline = forms.CharField(label=_("Session outline (one step per line)"), widget=TEXT, max_length=6000)


if TYPE_CHECKING:
    NoteModelForm = forms.ModelForm[Note]
else:
    NoteModelForm = forms.ModelForm


class NoteForm(NoteModelForm):
    class Meta:
        model = Note
        fields = ["module", "topic", "observations", "data", "assessment", "plan", "counseling_note"]
        widgets = {name: TEXT for name in ("observations", "data", "assessment", "plan")}

    def __init__(self, *args: Any, modules: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["module"] = forms.ChoiceField(
            label=_("Curriculum module"), required=False, choices=[("", _("(none)")), *(modules or [])]
        )
        kind = self.instance.kind
        drop = ("data", "assessment", "plan") if kind == SessionKind.GROUP else ("module", "topic", "observations")
        for name in drop:
            del self.fields[name]


class PartForm(forms.Form):
    participation = forms.CharField(label=_("Participation"), widget=TEXT, max_length=3000, required=False)
    progress = forms.CharField(label=_("Progress toward their goals"), widget=TEXT, max_length=3000, required=False)
    risk = forms.CharField(label=_("Risk"), widget=TEXT, max_length=3000, required=False)


class AddendumForm(forms.Form):
    text = forms.CharField(label=_("Addendum"), widget=TEXT, max_length=5000)


class ConsentForm(forms.Form):
    granted = forms.TypedChoiceField(
        label=_("Counseling-notes consent"),
        choices=[("yes", _("Recorded")), ("no", _("Revoked / none"))],
        coerce=lambda value: value == "yes",
    )


class ReviewForm(forms.Form):
    week = forms.IntegerField(label=_("Review week"), min_value=1, max_value=52)
    decision = forms.ChoiceField(label=_("Decision"), choices=Decision.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason"), widget=TEXT, max_length=3000, required=False)
    extend_weeks = forms.IntegerField(label=_("Extend by (weeks)"), min_value=1, max_value=12, required=False)
    effective = forms.DateField(
        label=_("Date the IOP ends (step down, step up, discharge)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class DischargeForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=DischargeReason.choices)
    discharge_date = forms.DateField(label=_("Discharge date"), widget=forms.DateInput(attrs={"type": "date"}))
    services_received = forms.CharField(label=_("Services received"), widget=TEXT, max_length=5000)
    hours_attended = forms.DecimalField(label=_("Hours attended"), min_value=0, max_value=2000, decimal_places=1)
    measure_change = forms.CharField(label=_("Change in measures"), widget=TEXT, max_length=3000, required=False)
    outpatient_therapist = forms.CharField(label=_("Outpatient therapist (name and contact)"), max_length=300)
    support_groups = forms.CharField(label=_("Support groups"), widget=TEXT, max_length=3000, required=False)
    crisis_plan = forms.CharField(label=_("Crisis plan"), widget=TEXT, max_length=3000)


class CheckInForm(forms.Form):
    how_are_you = forms.CharField(label=_("How are you doing?"), widget=TEXT, max_length=3000, required=False)
    needs_help = forms.TypedChoiceField(
        label=_("Do you need help?"),
        choices=[("no", _("No, I'm okay")), ("yes", _("Yes, I would like help"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
