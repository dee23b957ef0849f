from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from openiop.fhirapi.resources import resource_types


class ClientForm(forms.Form):
    name = forms.CharField(
        label=_("Name of the integration"),
        max_length=100,
        help_text=_("For example: MassHealth billing, the state reporting feed."),
    )
    scopes = forms.MultipleChoiceField(label=_("What it may read"), widget=forms.CheckboxSelectMultiple, choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [("system/*.read", _("Everything the API serves"))] + [  # type: ignore[attr-defined]
            (f"system/{name}.read", name) for name in resource_types()
        ]
