from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from openiop.audit.models import AuditEntry


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("Username"), required=False, max_length=150)
    record_number = forms.CharField(label=_("Patient record number"), required=False, max_length=20)
    action = forms.ChoiceField(label=_("Action"), required=False, choices=[("", _("Any")), *AuditEntry.Action.choices])
    flagged = forms.BooleanField(label=_("Flagged only"), required=False)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("The start date is after the end date."))
        return cleaned

    def cleaned_data_for_log(self) -> dict[str, str]:
        data = getattr(self, "cleaned_data", {})
        return {key: str(value) for key, value in data.items() if value not in (None, "", False)}
