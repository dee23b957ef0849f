from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from openiop.portal.models import Preferences, ProgramPage
from openiop.portal.trackfinder import FOCI, MODALITIES, TIMES


class TrackFinderForm(forms.Form):
    age = forms.IntegerField(label=_("How old are you?"), min_value=5, max_value=120, required=False)
    focus = forms.ChoiceField(
        label=_("What would you like help with?"),
        choices=list(
            zip(
                FOCI,
                [_("Alcohol or drug use"), _("Mental health (mood, anxiety, trauma)"), _("Both"), _("I am not sure")],
                strict=True,
            )
        ),
        initial="unsure",
        widget=forms.RadioSelect,
    )
    times = forms.MultipleChoiceField(
        label=_("When could you come? Choose all that work."),
        choices=list(zip(TIMES, [_("Mornings"), _("Afternoons (after school)"), _("Evenings")], strict=True)),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    modality = forms.ChoiceField(
        label=_("Online or in person?"),
        choices=list(zip(MODALITIES, [_("Online (video)"), _("In person"), _("Either is fine")], strict=True)),
        initial="either",
        widget=forms.RadioSelect,
    )


class MessageForm(forms.Form):
    body = forms.CharField(label=_("Your message"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)


class PreferencesForm(forms.ModelForm):  # type: ignore[type-arg]
    language = forms.ChoiceField(label=_("Language"), choices=[])

    class Meta:
        model = Preferences
        fields = ["language", "remind_by_email", "remind_by_sms", "sms_number", "nudge_about_messages"]

    def __init__(self, *args: Any, with_messages: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_messages:  # family members have no message thread
            del self.fields["nudge_about_messages"]
        self.fields["language"].choices = list(settings.LANGUAGES)  # type: ignore[attr-defined]

    def clean_sms_number(self) -> str:
        number: str = self.cleaned_data["sms_number"].strip()
        digits = "".join(ch for ch in number if ch.isdigit())
        if number and not 10 <= len(digits) <= 15:
            raise forms.ValidationError(_("Enter a mobile number with its area code, e.g. 617-555-0123."))
        return number

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("remind_by_sms") and not data.get("sms_number"):
            self.add_error("sms_number", _("Enter a mobile number to get text messages."))
        return data


class ProgramPageForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ProgramPage
        fields = [
            "published", "about", "who_it_helps", "days", "typical_length", "rolling_admission", "next_start_dates",
            "accepts_masshealth", "insurance", "licence", "massachusetts_label", "first_week", "phone", "email", "city",
        ]  # fmt: skip
        widgets = {
            "about": forms.Textarea(attrs={"rows": 4}),
            "who_it_helps": forms.Textarea(attrs={"rows": 3}),
            "first_week": forms.Textarea(attrs={"rows": 4}),
            "insurance": forms.Textarea(attrs={"rows": 3}),
            "next_start_dates": forms.Textarea(attrs={"rows": 2}),
        }


class FaqForm(forms.Form):
    question = forms.CharField(label=_("Question"), max_length=300, required=False)
    answer = forms.CharField(label=_("Answer"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


FaqFormSet = forms.formset_factory(FaqForm, extra=2, max_num=30)
