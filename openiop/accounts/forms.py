from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from openiop.accounts.models import STAFF_ROLES, Role


class SignInForm(AuthenticationForm):
    """Django's sign-in form (fields `username`, `password`) with our wording."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("That username and password do not match. Both are case-sensitive."),
    }


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("6-digit code from your authenticator app"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the 6 digits your authenticator app shows.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def clean_code(self) -> str:
        return str(self.cleaned_data["code"]).strip()


class InviteStaffForm(forms.Form):
    first_name = forms.CharField(label=_("Given name"), max_length=150)
    last_name = forms.CharField(label=_("Family name"), max_length=150)
    email = forms.EmailField(label=_("Email"))
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[A-Za-z0-9.@+_-]+$",
        error_messages={"invalid": _("Use letters, digits and . @ + - _ only.")},
    )
    role = forms.ChoiceField(label=_("Role"), choices=[(r.value, r.label) for r in Role if r in STAFF_ROLES])


class BreakGlassForm(forms.Form):
    record_number = forms.CharField(label=_("Record number"), max_length=20)
    reason = forms.CharField(
        label=_("Why do you need this record now?"),
        min_length=10,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Your reason, your name and the time go to the audit log and to the program director."),
    )
