from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from openiop.accounts.models import Role, User
from openiop.referrals import level_of_care as loc
from openiop.referrals.models import (
    AVAILABILITY_SLOTS,
    PARTS_OF_DAY,
    WEEKDAYS,
    Attendance,
    Focus,
    Source,
    Status,
)
from openiop.scheduling.models import Track

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

NAME = re.compile(r"^[^\W\d_][\w .'\-]*$")
TOKEN = re.compile(r"^[A-Za-z0-9_\-]{20,64}$")


def _slot_label(day_label: StrOrPromise, part_label: StrOrPromise) -> str:
    # Translators: a weekday and a part of the day, e.g. "Monday morning" (the part of the day is in lower case).
    return gettext("%(day)s %(part_of_day)s") % {"day": day_label, "part_of_day": str(part_label).lower()}


# Lazy, so each label is put together in the language of the page that shows it.
SLOT_CHOICES = [
    (f"{day}-{part}", lazy(_slot_label, str)(day_label, part_label))
    for day, day_label in WEEKDAYS
    for part, part_label in PARTS_OF_DAY
]
RATING_CHOICES = [
    (0, _("0 - no problem")),
    (1, _("1 - mild")),
    (2, _("2 - moderate")),
    (3, _("3 - serious")),
    (4, _("4 - severe")),
]


def _name(value: str) -> str:
    value = " ".join(value.split())
    if not NAME.match(value):
        raise forms.ValidationError(_("Use letters, spaces, hyphens or apostrophes only."))
    return value


def prefill_from_track_finder(query: Mapping[str, Any]) -> dict[str, Any]:
    """Initial answers from the track finder's link (`focus`, `time` (repeated), `modality`); anything
    unknown is ignored, since these only pre-fill a form the person still checks and sends."""
    initial: dict[str, Any] = {}
    focus = query.get("focus", "")
    if focus in ("substance-use", "co-occurring"):
        initial["concern_substance_use"] = True
    if focus in ("mental-health", "co-occurring"):
        initial["concern_mental_health"] = True
    if query.get("modality") in Attendance.values:
        initial["attendance"] = query["modality"]
    times = query.getlist("time") if hasattr(query, "getlist") else []
    parts = [part for part, _label in PARTS_OF_DAY if part in times]
    if parts:
        initial["availability"] = [f"{day}-{part}" for day, _label in WEEKDAYS for part in parts]
    return initial


class ReferralFields(forms.Form):
    given_name = forms.CharField(label=_("First name"), max_length=100)
    family_name = forms.CharField(label=_("Last name"), max_length=100)
    date_of_birth = forms.DateField(
        label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date"}), help_text=_("For example 1990-05-17.")
    )
    email = forms.EmailField(label=_("Email"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    preferred_language = forms.CharField(label=_("Preferred language"), max_length=50, initial="English")
    concerns = forms.CharField(
        label=_("What is going on?"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("In your own words. At most 4000 characters."),
    )
    concern_substance_use = forms.BooleanField(label=_("Alcohol or drug use is part of it"), required=False)
    concern_mental_health = forms.BooleanField(
        label=_("Mood, anxiety or other mental health is part of it"), required=False
    )
    danger_now = forms.BooleanField(
        label=_("Right now I am thinking of ending my life, or I am in danger"), required=False
    )
    insurance = forms.CharField(label=_("Insurance (name of plan)"), max_length=200, required=False)
    attendance = forms.ChoiceField(label=_("How would you attend?"), choices=Attendance.choices)
    availability = forms.MultipleChoiceField(
        label=_("When could you attend?"),
        choices=SLOT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Tick every part of the day you could attend."),
    )

    def clean_given_name(self) -> str:
        return _name(self.cleaned_data["given_name"])

    def clean_family_name(self) -> str:
        return _name(self.cleaned_data["family_name"])

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and not re.fullmatch(r"[0-9 +().\-]{7,30}", phone):
            raise forms.ValidationError(_("Use digits, spaces, +, - and brackets only."))
        return phone

    def clean_preferred_language(self) -> str:
        return _name(self.cleaned_data["preferred_language"])

    def clean_date_of_birth(self) -> date:
        born: date = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if born > today:
            raise forms.ValidationError(_("The date of birth is in the future."))
        if born.year < today.year - 120:
            raise forms.ValidationError(_("Check the year of birth."))
        return born

    def clean_availability(self) -> list[str]:
        return [slot for slot in AVAILABILITY_SLOTS if slot in self.cleaned_data["availability"]]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("email") and not data.get("phone") and not self.errors.get("phone"):
            raise forms.ValidationError(_("Give an email address or a phone number so we can reach you."))
        return data


class SelfReferralForm(ReferralFields):
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    # A field people never see; bots fill it in.
    website = forms.CharField(
        required=False,
        max_length=200,
        label=_("Leave this empty"),
        # Out of the tab order, since its box is hidden from screen readers too.
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def clean_form_token(self) -> str:
        token = self.cleaned_data["form_token"]
        if not TOKEN.match(token):
            raise forms.ValidationError(_("The form expired. Reload the page and send it again."))
        return token


class StaffReferralForm(ReferralFields):
    source = forms.ChoiceField(label=_("Referred by"), choices=[c for c in Source.choices if c[0] != Source.SELF])
    referrer_name = forms.CharField(label=_("Referrer (person and organisation)"), max_length=200)
    residential_discharge_date = forms.DateField(
        label=_("Residential discharge date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("For a step-down: treatment here starts the week after."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("source") == Source.STEP_DOWN and not data.get("residential_discharge_date"):
            self.add_error("residential_discharge_date", _("A step-down referral needs the discharge date."))
        return data


class ScreeningForm(forms.Form):
    focus = forms.ChoiceField(label=_("Main focus"), choices=Focus.choices)
    withdrawal = forms.TypedChoiceField(
        label=_("Withdrawal risk: could stopping or cutting down make them physically unwell or unsafe?"),
        choices=RATING_CHOICES,
        coerce=int,
    )
    biomedical = forms.TypedChoiceField(
        label=_("Physical health: do health problems need attention or get in the way of treatment?"),
        choices=RATING_CHOICES,
        coerce=int,
    )
    emotional = forms.TypedChoiceField(
        label=_("Emotional and behavioral health, including thoughts of suicide or self-harm"),
        choices=RATING_CHOICES,
        coerce=int,
    )
    readiness = forms.TypedChoiceField(
        label=_("Readiness to change: how far are they from wanting to change?"), choices=RATING_CHOICES, coerce=int
    )
    relapse = forms.TypedChoiceField(
        label=_("Risk of relapse or continued use or symptoms without more support"),
        choices=RATING_CHOICES,
        coerce=int,
    )
    environment = forms.TypedChoiceField(
        label=_("Home and recovery environment: does it work against recovery?"), choices=RATING_CHOICES, coerce=int
    )
    danger_now = forms.BooleanField(
        label=_("They are thinking of ending their life now, or are in danger right now"), required=False
    )
    hours_per_week = forms.IntegerField(label=_("Hours a week they can attend"), min_value=0, max_value=80)
    days_per_week = forms.IntegerField(label=_("Days a week they can attend"), min_value=0, max_value=7)
    stepping_down = forms.BooleanField(label=_("Stepping down from residential or inpatient care"), required=False)
    notes = forms.CharField(label=_("Notes"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("confirm", _("Confirm")), ("override", _("Override"))])
    level = forms.ChoiceField(
        label=_("Level of care instead"),
        required=False,
        choices=[("", "---")] + [(level, loc.LEVEL_WORDS[level]) for level in loc.LEVELS],
    )
    track = forms.ChoiceField(
        label=_("IOP track"), required=False, choices=[("", "---")] + [(t, t) for t in loc.TRACKS]
    )
    reason = forms.CharField(label=_("Why"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ConsentSignForm(forms.Form):
    typed_name = forms.CharField(label=_("Type your full name to sign"), max_length=200)
    counseling_notes = forms.BooleanField(
        label=_("I also sign the separate consent for counseling notes"), required=False
    )
    add_family = forms.BooleanField(label=_("I want a family member or support person to have access"), required=False)
    family_given_name = forms.CharField(label=_("Their first name"), max_length=100, required=False)
    family_family_name = forms.CharField(label=_("Their last name"), max_length=100, required=False)
    family_email = forms.EmailField(label=_("Their email"), required=False)
    family_relationship = forms.CharField(label=_("Relationship to you"), max_length=100, required=False)
    may_see_family_sessions = forms.BooleanField(
        label=_("They may see the schedule of family sessions"), required=False
    )
    may_see_progress_summary = forms.BooleanField(
        label=_("They may see a short summary of my progress"), required=False
    )
    part2_recipients = forms.TypedMultipleChoiceField(
        label=_("Organizations that may also receive your substance use treatment records"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=(),
    )

    def __init__(self, *args: Any, part2_choices: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["part2_recipients"].choices = part2_choices or []  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("add_family"):
            for name in ("family_given_name", "family_family_name", "family_email", "family_relationship"):
                if not data.get(name):
                    self.add_error(name, _("Needed for family access."))
            for name in ("family_given_name", "family_family_name"):
                if data.get(name):
                    try:
                        data[name] = _name(data[name])
                    except forms.ValidationError as error:
                        self.add_error(name, error)
            if not data.get("may_see_family_sessions") and not data.get("may_see_progress_summary"):
                self.add_error("may_see_family_sessions", _("Choose at least one thing they may see."))
        return data


class EnrollForm(forms.Form):
    track = forms.ModelChoiceField(label=_("Track"), queryset=Track.objects.none())
    start_date = forms.DateField(
        label=_("Start date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("A step-down starts the week after the discharge date, whatever is entered here."),
    )
    primary_clinician = forms.ModelChoiceField(
        label=_("Primary clinician"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Puts the patient on this clinician's caseload."),
    )
    emergency_contact_name = forms.CharField(label=_("Emergency contact"), max_length=200)
    emergency_contact_phone = forms.CharField(label=_("Emergency contact phone"), max_length=30)
    emergency_contact_relationship = forms.CharField(label=_("Relationship"), max_length=100)

    def __init__(self, *args: Any, program_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["track"].queryset = Track.objects.filter(program_id=program_id)  # type: ignore[attr-defined]
        self.fields["primary_clinician"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            program_id=program_id, role=Role.CLINICIAN, is_active=True
        )


class CloseForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(s.value, s.label) for s in (Status.REFERRED_ELSEWHERE, Status.DECLINED, Status.NO_RESPONSE)]
    )
    note = forms.CharField(max_length=500, required=False)


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Why are you revoking this consent?"), max_length=2000)


class BoardFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", _("Open")), ("all", _("All")), *list(Status.choices)])
    source = forms.ChoiceField(required=False, choices=[("", _("Any source")), *list(Source.choices)])
    q = forms.CharField(required=False, max_length=100, label=_("Name or reference"))


def _lay(*labels: StrOrPromise) -> list[tuple[int, StrOrPromise]]:
    return list(enumerate(labels))


class SelfScreeningForm(forms.Form):
    """The screening in the person's own words (each answer maps to 0-4)."""

    withdrawal = forms.TypedChoiceField(
        label=_("If you stopped drinking or using drugs, how unwell do you think you would get?"),
        coerce=int,
        widget=forms.RadioSelect,
        choices=_lay(
            _("I don't drink or use, or stopping is no problem"),
            _("A little uncomfortable"),
            _("Shaky, sweaty or sick for a few days"),
            _("Very sick; it has happened before"),
            _("When I stopped before I had a seizure, saw or heard things, or got confused"),
        ),
    )
    biomedical = forms.TypedChoiceField(
        label=_("How much do physical health problems get in your way right now?"),
        coerce=int,
        widget=forms.RadioSelect,
        choices=_lay(
            _("Not at all"), _("A little"), _("Quite a bit"), _("A lot; I need regular medical care"),
            _("I need medical care now"),
        ),
    )  # fmt: skip
    emotional = forms.TypedChoiceField(
        label=_("In the past two weeks, how much have your mood, worries or thoughts got in the way of daily life?"),
        coerce=int,
        widget=forms.RadioSelect,
        choices=_lay(
            _("Not at all"), _("A little"), _("Quite a bit"), _("I can hardly manage day to day"),
            _("I cannot keep myself safe"),
        ),
    )  # fmt: skip
    readiness = forms.TypedChoiceField(
        label=_("How ready do you feel to make changes?"),
        coerce=int,
        widget=forms.RadioSelect,
        choices=_lay(
            _("Very ready"), _("Mostly ready"), _("Unsure"), _("Not really"), _("Not at all; others want me to come"),
        ),
    )  # fmt: skip
    relapse = forms.TypedChoiceField(
        label=_("Without more support, how likely is it that things get worse in the next few weeks?"),
        coerce=int,
        widget=forms.RadioSelect,
        choices=_lay(_("Not likely"), _("A little likely"), _("Likely"), _("Very likely"), _("It is happening now")),
    )
    environment = forms.TypedChoiceField(
        label=_("Does your home and daily life support your recovery?"),
        coerce=int,
        widget=forms.RadioSelect,
        choices=_lay(
            _("Very much"), _("Mostly"), _("Some of it does, some doesn't"), _("Mostly not"),
            _("It is unsafe or works against me"),
        ),
    )  # fmt: skip
    danger_now = forms.BooleanField(
        label=_("Right now I am thinking of ending my life, or I am in danger"), required=False
    )
    hours_per_week = forms.IntegerField(
        label=_("How many hours a week could you attend?"), min_value=0, max_value=80, help_text=_("For example 9.")
    )
    days_per_week = forms.IntegerField(label=_("On how many days a week?"), min_value=0, max_value=7)
    stepping_down = forms.BooleanField(
        label=_("I am leaving (or just left) a residential or hospital program"), required=False
    )
