from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from openiop.fhirapi.models import Purpose
from openiop.fhirapi.resources import resource_types


class ClientForm(forms.Form):
    name = forms.CharField(
        label=_("Name of the integration"),
        max_length=100,
        help_text=_("For example: MassHealth billing, the state reporting feed."),
    )
    scopes = forms.MultipleChoiceField(label=_("What it may read"), widget=forms.CheckboxSelectMultiple, choices=())
    recipient_name = forms.CharField(
        label=_("Organization that receives the data"),
        max_length=200,
        help_text=_(
            "The organization's legal name, as a patient's 42 CFR Part 2 consent will name it, e.g. "
            "Commonwealth Health Information Exchange."
        ),
    )
    purposes = forms.MultipleChoiceField(
        label=_("Why it receives the data"),
        widget=forms.CheckboxSelectMultiple,
        choices=Purpose.choices,
    )
    receives_part2 = forms.BooleanField(
        label=_("Offer it on the 42 CFR Part 2 consent"),
        required=False,
        help_text=_(
            "Substance use patients may then name it at intake. It receives their records only if their consent "
            "names it for all of the purposes above, and not after they revoke it or it expires."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [("system/*.read", _("Everything the API serves"))] + [  # type: ignore[attr-defined]
            (f"system/{name}.read", name) for name in resource_types()
        ]

    def clean_recipient_name(self) -> str:
        value = " ".join(str(self.cleaned_data["recipient_name"]).split())
        if len(value) < 3:
            raise forms.ValidationError(_("Give the organization's full name."))
        if any(character in value for character in "{}<>"):
            raise forms.ValidationError(_("Use letters, digits and ordinary punctuation only."))
        return value
