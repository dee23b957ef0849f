from django import forms
from django.utils.translation import gettext_lazy as _


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("What was done"),
        min_length=5,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: called the patient, safety plan reviewed, follow-up booked."),
    )
